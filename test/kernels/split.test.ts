import assert from 'node:assert/strict';
import { GpuLimitError } from '../../src/errors.js';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph, type Value } from '../../src/graph/ir.js';
import { compileGraph, type CompiledGraph } from '../../src/kernels/compile.js';
import { planConvForward } from '../../src/kernels/conv-forward.js';
import { convReference } from '../../src/kernels/reference/conv.js';
import { unaryForward } from '../../src/kernels/reference/elementwise.js';
import { splitSamples, splitUnits } from '../../src/kernels/split.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, randomValues, runPlan } from './helpers.js';

const SPATIAL = [7, 5, 8];
const PAD1: [number, number][] = [
  [1, 1],
  [1, 1],
  [1, 1],
];
const NO_PAD: [number, number][] = [
  [0, 0],
  [0, 0],
  [0, 0],
];
const CONV1 = { stride: [1, 1, 1], padding: PAD1, dilation: [1, 1, 1], groups: 1 };
const CONV2 = { stride: [2, 2, 2], padding: PAD1, dilation: [1, 1, 1], groups: 1 };
const LOSS = { fromLogits: true, reduction: 'mean', labelSmoothing: 0, ignoreIndex: -100 } as const;
type Norm = 'none' | 'instance' | 'group' | 'batch';
const NORM_PARAMS = ['norm.weight', 'norm.bias'];
const PARAMS = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', 'fc.bias'];

/**
 * conv(1 -> 4, kernel 3, padding 1) -> relu -> maxPool 2 -> p; p + avgPool(upsample(p)) ->
 * conv(4 -> 2, stride 2, padding 1) -> relu -> avgPool [2, 1, 2] -> linear(2 -> 3) ->
 * cross-entropy, on [batch, 1, 7, 5, 8]: every op kind that splits, with odd sizes.
 */
function splitNet(batch: number, norm: Norm = 'none') {
  const graph = new Graph();
  const image = graph.addInput('image', [batch, 1, ...SPATIAL]);
  const label = graph.addInput('label', [batch], 'i32');
  const uniform = (bound: number) => ({ kind: 'uniform', low: -bound, high: bound }) as const;
  const w1 = graph.addParam('conv1.weight', [4, 1, 3, 3, 3], uniform(0.4));
  const b1 = graph.addParam('conv1.bias', [4], uniform(0.3));
  const w2 = graph.addParam('conv2.weight', [2, 4, 3, 3, 3], uniform(0.3));
  const b2 = graph.addParam('conv2.bias', [2], uniform(0.3));
  const fcWeight = graph.addParam('fc.weight', [3, 2], uniform(0.5));
  const fcBias = graph.addParam('fc.bias', [3], uniform(0.2));
  const node = (op: string, inputs: Value[], attrs: object, scope: string) =>
    graph.addNode(op as 'conv', inputs, attrs as never, scope)[0]!;

  let y = node('conv', [image, w1, b1], CONV1, 'conv1');
  if (norm === 'batch') {
    const weight = graph.addParam('norm.weight', [4], uniform(1));
    const bias = graph.addParam('norm.bias', [4], uniform(0.5));
    const zero = { kind: 'constant', value: 0 } as const;
    const one = { kind: 'constant', value: 1 } as const;
    const running = [
      graph.addBuffer('norm.running_mean', [4], zero),
      graph.addBuffer('norm.running_var', [4], one),
      graph.addBuffer('norm.num_batches_tracked', [], zero),
    ];
    const attrs = { eps: 1e-5, momentum: 0.1, affine: true, trackRunningStats: true };
    y = node('batchNorm', [y, weight, bias, ...running], attrs, 'norm');
  } else if (norm !== 'none') {
    const weight = graph.addParam('norm.weight', [4], uniform(1));
    const bias = graph.addParam('norm.bias', [4], uniform(0.5));
    const attrs =
      norm === 'instance' ? { eps: 1e-5, affine: true } : { eps: 1e-5, affine: true, numGroups: 2 };
    y = node(norm === 'instance' ? 'instanceNorm' : 'groupNorm', [y, weight, bias], attrs, 'norm');
  }
  const activation = node('relu', [y], {}, 'act1');
  const pool = { kernelSize: [2, 2, 2], stride: [2, 2, 2], padding: NO_PAD, ceilMode: false };
  const pooled = node('maxPool', [activation], { ...pool, dilation: [1, 1, 1] }, 'pool1');
  const upsampled = node(
    'upsample',
    [pooled],
    { mode: 'linear', size: [6, 4, 8], scale: null, alignCorners: false },
    'up',
  );
  const smoothed = node('avgPool', [upsampled], { ...pool, countIncludePad: true }, 'smooth');
  y = node('add', [pooled, smoothed], {}, 'skip');
  y = node('conv', [y, w2, b2], CONV2, 'conv2');
  y = node('relu', [y], {}, 'act2');
  const last = { kernelSize: [2, 1, 2], stride: [2, 1, 2], padding: NO_PAD, ceilMode: false };
  y = node('avgPool', [y], { ...last, countIncludePad: true }, 'pool2');
  y = node('reshape', [y], { shape: [batch, 2] }, 'flatten');
  const scores = node('linear', [y, fcWeight, fcBias], {}, 'fc');
  const loss = node('crossEntropy', [scores, label], LOSS, 'loss');
  graph.setOutput('scores', scores);
  graph.setOutput('loss', loss);
  return { graph, loss };
}

interface Run {
  compiled: CompiledGraph;
  values: Map<string, Float32Array>;
}

/** Compiles the training graph of splitNet, runs it once and reads the loss and gradients. */
async function runNet(
  gpu: Gpu,
  batch: number,
  maxBindingBytes?: number,
  norm: Norm = 'none',
  fuse = true,
): Promise<Run> {
  const { graph, loss } = splitNet(batch, norm);
  const params = norm === 'none' ? PARAMS : [...PARAMS, ...NORM_PARAMS];
  const backward = appendBackward(graph, loss);
  const forward = backward.graph.nodes.find((n) => n.scope === 'act1')!.outputs[0]!;
  const gradients = params.map((name) => backward.gradients.get(name)!);
  const keep = [backward.loss, backward.graph.output('scores')!, forward, ...gradients];
  const training = norm === 'batch';
  const options = { keep, seed: 7, maxBindingBytes, training, fuse };
  const compiled = await compileGraph(gpu, backward.graph, options);
  compiled.write('image', randomValues(batch * 280, 11));
  compiled.write(
    'label',
    Int32Array.from({ length: batch }, (_, i) => i % 3),
  );
  compiled.run();
  const values = new Map<string, Float32Array>();
  values.set('loss', await compiled.read(backward.loss));
  values.set('scores', await compiled.read(backward.graph.output('scores')!));
  values.set('activation', await compiled.read(forward));
  for (const [index, name] of params.entries()) {
    values.set(`grad ${name}`, await compiled.read(gradients[index]!));
  }
  if (norm === 'batch') {
    for (const name of ['norm.running_mean', 'norm.running_var']) {
      values.set(name, await compiled.read(compiled.stateValue(name)));
    }
  }
  return { compiled, values };
}

const bits = (values: Float32Array) => [...new Uint32Array(values.buffer)];

describe('splitUnits', () => {
  const limits = { maxStorageBufferBindingSize: 1024, minStorageBufferOffsetAlignment: 16 };
  const cases = [
    { name: 'all in one run', units: 4, per: [64], runs: [[0, 4]] },
    {
      name: 'full runs and a rest',
      units: 5,
      per: [100],
      runs: [
        [0, 2],
        [2, 2],
        [4, 1],
      ],
    },
    {
      name: 'odd units in aligned pairs',
      units: 5,
      per: [70],
      runs: [
        [0, 2],
        [2, 2],
        [4, 1],
      ],
    },
    {
      name: 'the widest operand sets the run',
      units: 6,
      per: [40, 120],
      runs: [
        [0, 2],
        [2, 2],
        [4, 2],
      ],
    },
  ];
  for (const { name, units, per, runs } of cases) {
    it(name, () => {
      const operands = per.map((elementsPerUnit) => ({ label: 'x', elementsPerUnit }));
      const split = splitUnits(units, operands, limits as never, 'plane');
      assert.deepEqual(
        split.map(({ start, count }) => [start, count]),
        runs,
      );
    });
  }

  it('rejects a unit over the limit', () => {
    const operands = [{ label: "output 'y'", elementsPerUnit: 300 }];
    assert.throws(
      () => splitUnits(2, operands, limits as never, 'plane'),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.includes("One plane of output 'y' needs 1200 bytes") &&
        error.message.includes('1024 bytes'),
    );
  });

  it('rejects runs that cannot start aligned', () => {
    const operands = [{ label: "input 'x'", elementsPerUnit: 255 }];
    assert.throws(
      () => splitUnits(3, operands, limits as never, 'plane'),
      (error: Error) => error instanceof GpuLimitError && error.message.includes('16 bytes'),
    );
  });
});

describe('splitSamples', () => {
  const limits = { maxStorageBufferBindingSize: 1024, minStorageBufferOffsetAlignment: 16 };
  it('splits samples before channels', () => {
    const pieces = splitSamples(
      3,
      4,
      [{ label: 'x', elementsPerUnit: 40 }],
      [{ label: 'y', elementsPerUnit: 40 }],
      limits as never,
    );
    assert.deepEqual(
      pieces.map((p) => [p.sample, p.samples, p.channel, p.channels]),
      [
        [0, 1, 0, 4],
        [1, 1, 0, 4],
        [2, 1, 0, 4],
      ],
    );
  });

  it('splits one sample by channels', () => {
    const pieces = splitSamples(
      2,
      5,
      [{ label: 'x', elementsPerUnit: 100 }],
      [{ label: 'y', elementsPerUnit: 100 }],
      limits as never,
    );
    assert.deepEqual(
      pieces.map((p) => [p.sample, p.samples, p.channel, p.channels]),
      [
        [0, 1, 0, 2],
        [0, 1, 2, 2],
        [0, 1, 4, 1],
        [1, 1, 0, 2],
        [1, 1, 2, 2],
        [1, 1, 4, 1],
      ],
    );
  });

  it('rejects a whole input over the limit', () => {
    const whole = [{ label: "input 'x'", elementsPerUnit: 400 }];
    assert.throws(
      () => splitSamples(1, 2, whole, [{ label: 'y', elementsPerUnit: 200 }], limits as never),
      (error: Error) => error instanceof GpuLimitError && error.message.includes("input 'x'"),
    );
  });
});

// NOTE: the GPU cases pick sizes whose windows start aligned to lavapipe's
// minStorageBufferOffsetAlignment of 16 bytes; an adapter with 256 needs larger runs.
describe('split lowering', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  // [batch, maxBindingBytes]: by samples (4480 bytes a sample), by channels of one sample
  // (1120 bytes a channel), runs of 3 channels and a rest of 1.
  // The norms split by sample only (4480 bytes a sample).
  const cases: [number, number, Norm][] = [
    [3, 8192, 'none'],
    [3, 2048, 'none'],
    [1, 4096, 'none'],
    [2, 4096, 'none'],
    [2, 8192, 'instance'],
    [3, 8192, 'group'],
    [3, 8192, 'batch'],
    [3, 9000, 'batch'],
  ];
  for (const [batch, limit, norm] of cases) {
    it(`matches the unsplit step: batch ${batch}, ${limit} bytes, norm ${norm}`, async () => {
      const whole = await runNet(gpu, batch, undefined, norm);
      const split = await runNet(gpu, batch, limit, norm);
      const dispatches = (run: Run) => run.compiled.program.dispatches.length;
      assert.ok(dispatches(split) > dispatches(whole), `${dispatches(split)} dispatches`);
      for (const [name, expected] of whole.values) {
        const error = maxMixedError(split.values.get(name)!, expected);
        // Split sums add partial sums in another order: a few f32 ulps apart.
        assert.ok(error <= 1e-5, `${name}: error ${error}`);
      }
    });
  }

  for (const algorithm of ['direct', 'gemm'] as const) {
    it(`computes a channel group with ${algorithm}`, async () => {
      // Output channels 3 to 5 of a convolution with 7, reading rows 3 to 5 of the whole
      // weight and bias from OUT_CHANNEL_BASE.
      const geometry = {
        batch: 2,
        inChannels: 3,
        outChannels: 7,
        inputSize: [5, 4, 3],
        kernelSize: [3, 3, 3],
        padding: PAD1,
      };
      const x = randomValues(2 * 3 * 60, 21);
      const weight = randomValues(7 * 3 * 27, 22);
      const bias = randomValues(7, 23);
      const group = { ...geometry, batch: 1, outChannels: 3, outChannelBase: 3 };
      const limits = {
        maxStorageBufferBindingSize: 1 << 27,
        maxComputeWorkgroupStorageSize: gpu.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: gpu.limits.maxComputeInvocationsPerWorkgroup,
      };
      const plan = planConvForward(group, { bias: true }, limits, undefined, algorithm);
      const sample = x.subarray(60 * 3, 60 * 6);
      const [y] = await runPlan(gpu, plan, [sample, weight, bias], [3 * 60]);
      const expected = convReference(geometry, x, weight, bias).subarray(
        (7 + 3) * 60,
        (7 + 6) * 60,
      );
      const error = maxMixedError(y!, expected);
      assert.ok(error <= 1e-5, `error ${error}`);
    });
  }

  it('computes the first layer like float64 when split', async () => {
    const batch = 2;
    const run = await runNet(gpu, batch, 2048);
    const state = run.compiled;
    const weight = await state.read(state.stateValue('conv1.weight'));
    const bias = await state.read(state.stateValue('conv1.bias'));
    const geometry = {
      batch,
      inChannels: 1,
      outChannels: 4,
      inputSize: SPATIAL,
      kernelSize: [3, 3, 3],
      padding: PAD1,
    };
    const conv = convReference(geometry, randomValues(batch * 280, 11), weight, bias);
    const expected = unaryForward({ op: 'relu' }, conv);
    const error = maxMixedError(run.values.get('activation')!, expected);
    assert.ok(error <= 1e-5, `error ${error}`);
  });

  it('gives identical bits on two runs', async () => {
    const first = await runNet(gpu, 3, 2048);
    const second = await runNet(gpu, 3, 2048);
    for (const name of PARAMS) {
      const key = `grad ${name}`;
      assert.deepEqual(bits(second.values.get(key)!), bits(first.values.get(key)!), key);
    }
  });

  it('splits adaptive pooling by plane', async () => {
    const run = async (maxBindingBytes?: number, size = [2, 2, 3]) => {
      const graph = new Graph();
      const x = graph.addInput('x', [3, 2, 7, 5, 8]);
      const outputSize = { outputSize: size };
      const avg = graph.addNode('adaptiveAvgPool', [x], outputSize, 'avg')[0]!;
      const max = graph.addNode('adaptiveMaxPool', [x], outputSize, 'max')[0]!;
      graph.setOutput('avg', avg);
      graph.setOutput('max', max);
      const compiled = await compileGraph(gpu, graph, { maxBindingBytes });
      compiled.write('x', randomValues(3 * 2 * 280, 5));
      compiled.run();
      const read = (v: Value) => compiled.read(v);
      return { compiled, avg: await read(avg), max: await read(max) };
    };
    const whole = await run();
    const split = await run(2048);
    assert.equal(split.compiled.program.dispatches.length, 2 * 6);
    assert.deepEqual(bits(split.avg), bits(whole.avg));
    assert.deepEqual(bits(split.max), bits(whole.max));
    // Output planes of 18 values start aligned to 16 bytes only in pairs, 2240 input bytes.
    await assert.rejects(
      run(2048, [3, 2, 3]),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.includes('multiples of 16 bytes') &&
        error.message.includes('2240 bytes'),
    );
  });

  it('splits copies by sample', async function () {
    // Compiling the copy kernels with an empty shader cache took 4 minutes on a loaded lavapipe.
    this.timeout(600_000);
    const run = async (maxBindingBytes?: number) => {
      const graph = new Graph();
      const image = graph.addInput('image', [3, 1, ...SPATIAL]);
      const label = graph.addInput('label', [3], 'i32');
      const uniform = { kind: 'uniform', low: -0.5, high: 0.5 } as const;
      const w1 = graph.addParam('a.weight', [2, 1, 3, 3, 3], uniform);
      const w2 = graph.addParam('b.weight', [2, 1, 3, 3, 3], uniform);
      const fcWeight = graph.addParam('fc.weight', [3, 4], uniform);
      const add = (op: string, inputs: Value[], attrs: object) =>
        graph.addNode(op as 'conv', inputs, attrs as never, op)[0]!;
      const a = add('conv', [image, w1], CONV1);
      const b = add('conv', [image, w2], CONV1);
      let y = add('concat', [a, b], { axis: 1 });
      y = add('permute', [y], { axes: [0, 1, 4, 3, 2] });
      y = add('slice', [y], {
        begin: [0, 0, 1, 0, 0],
        end: [3, 4, 7, 5, 7],
        step: [1, 1, 1, 1, 1],
      });
      const padding = [
        [0, 0],
        [0, 0],
        [1, 1],
        [0, 0],
        [0, 0],
      ];
      y = add('pad', [y], { padding, mode: 'constant', value: 0.5 });
      y = add('adaptiveAvgPool', [y], { outputSize: [1, 1, 1] });
      y = add('reshape', [y], { shape: [3, 4] });
      const scores = add('linear', [y, fcWeight], {});
      const loss = add('crossEntropy', [scores, label], LOSS);
      graph.setOutput('loss', loss);
      const backward = appendBackward(graph, loss);
      const gradients = ['a.weight', 'b.weight'].map((name) => backward.gradients.get(name)!);
      const keep = [backward.loss, ...gradients];
      const compiled = await compileGraph(gpu, backward.graph, { keep, seed: 3, maxBindingBytes });
      compiled.write('image', randomValues(3 * 280, 9));
      compiled.write('label', Int32Array.of(0, 1, 2));
      compiled.run();
      return { compiled, values: await Promise.all(keep.map((v) => compiled.read(v))) };
    };
    const whole = await run();
    const split = await run(8192);
    const count = (r: typeof whole) => r.compiled.program.dispatches.length;
    assert.ok(count(split) > count(whole), `${count(split)} dispatches`);
    whole.values.forEach((expected, index) => {
      const error = maxMixedError(split.values[index]!, expected);
      assert.ok(error <= 1e-5, `value ${index}: error ${error}`);
    });
  });

  it('writes relu gradients in place', async () => {
    const names = (run: Run) => run.compiled.program.dispatches.map((d) => d.name);
    // Without fusion act1's gradient is not folded into the max pooling after it.
    const whole = await runNet(gpu, 2, undefined, 'none', false);
    const split = await runNet(gpu, 2, 2048, 'none', false);
    // Both relus' input gradients overwrite their output gradients.
    assert.equal(names(whole).filter((n) => n === 'relu_backward_in_place').length, 2);
    assert.ok(names(split).filter((n) => n === 'relu_backward_in_place').length > 2);
    assert.ok(!names(whole).includes('relu_backward'), names(whole).join(', '));
  });

  it('rejects a sample over the limit by op', async () => {
    const { graph, loss } = splitNet(2);
    const backward = appendBackward(graph, loss);
    await assert.rejects(
      compileGraph(gpu, backward.graph, { keep: [backward.loss], maxBindingBytes: 1024 }),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.startsWith("Op 'conv' (layer 'conv1')") &&
        error.message.includes('1120 bytes') &&
        error.message.includes('1024 bytes'),
    );
  });

  it('rejects an unsplit op over the limit', async () => {
    const graph = new Graph();
    const x = graph.addInput('x', [2, 4, 8, 8]);
    // A layer norm over every axis normalises across samples, so it is not split.
    const attrs = { eps: 1e-5, affine: false, normalizedShape: [2, 4, 8, 8] };
    const y = graph.addNode('layerNorm', [x], attrs, 'ln')[0]!;
    graph.setOutput('y', y);
    await assert.rejects(
      compileGraph(gpu, graph, { maxBindingBytes: 1024 }),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.startsWith("Op 'layerNorm' (layer 'ln')") &&
        error.message.includes('2048 bytes'),
    );
  });
});
