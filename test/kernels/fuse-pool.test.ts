// relu's gradient folded into max pooling (fuse-pool.ts): which graphs fold, how many
// dispatches it saves, and gradients bit for bit equal to the unfolded program's.

import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph, numElements, type Value } from '../../src/graph/ir.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { findPoolReluFusions } from '../../src/kernels/fuse-pool.js';
import { lowerGraph } from '../../src/kernels/lower-graph.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { LOSS } from '../helpers/small-cnn.js';
import { LOWER_LIMITS, randomValues } from './helpers.js';

const zeroPadding = (dims: number) => new Array(dims).fill([0, 0]) as [number, number][];

/** Max pooling attributes with the given kernel size and stride on every spatial axis. */
function poolAttrs(dims: number, kernel: number, stride = kernel) {
  return {
    kernelSize: new Array(dims).fill(kernel),
    stride: new Array(dims).fill(stride),
    padding: zeroPadding(dims),
    dilation: new Array(dims).fill(1),
    ceilMode: false,
  };
}

function conv(graph: Graph, x: Value, name: string, outChannels: number): Value {
  const uniform = { kind: 'uniform', low: -0.3, high: 0.3 } as const;
  const weight = graph.addParam(`${name}.weight`, [outChannels, x.shape[1]!, 3, 3, 3], uniform);
  const bias = graph.addParam(`${name}.bias`, [outChannels], uniform);
  const padding: [number, number][] = [
    [1, 1],
    [1, 1],
    [1, 1],
  ];
  const attrs = { stride: [1, 1, 1], padding, dilation: [1, 1, 1], groups: 1 };
  return graph.addNode('conv', [x, weight, bias], attrs, name)[0]!;
}

/**
 * Ends `graph` with the loss sum(pooled * head.weight). Its gradient at `pooled` is the head
 * weight, finite even where `pooled` is NaN, so a NaN reaches relu's gradient alone.
 */
function headLoss(graph: Graph, pooled: Value): Value {
  const uniform = { kind: 'uniform', low: -1, high: 1 } as const;
  const head = graph.addParam('head.weight', [...pooled.shape], uniform);
  const product = graph.addNode('mul', [pooled, head], {}, 'head')[0]!;
  const axes = pooled.shape.map((_, axis) => axis);
  const loss = graph.addNode('sum', [product], { axes, keepDims: false }, 'loss')[0]!;
  graph.setOutput('loss', loss);
  return loss;
}

/** Three blocks of conv -> relu -> maxPool 2, then linear -> cross-entropy. */
function threeBlockCnn(): { graph: Graph; loss: Value } {
  const graph = new Graph();
  let y = graph.addInput('image', [2, 1, 16, 16, 16]);
  const label = graph.addInput('label', [2], 'i32');
  [4, 8, 16].forEach((channels, index) => {
    y = conv(graph, y, `conv${index}`, channels);
    y = graph.addNode('relu', [y], {}, `act${index}`)[0]!;
    y = graph.addNode('maxPool', [y], poolAttrs(3, 2), `pool${index}`)[0]!;
  });
  y = graph.addNode('reshape', [y], { shape: [2, 128] }, 'flatten')[0]!;
  const uniform = { kind: 'uniform', low: -0.1, high: 0.1 } as const;
  const fcWeight = graph.addParam('fc.weight', [2, 128], uniform);
  const scores = graph.addNode('linear', [y, fcWeight], {}, 'fc')[0]!;
  const loss = graph.addNode('crossEntropy', [scores, label], LOSS, 'loss')[0]!;
  graph.setOutput('loss', loss);
  return { graph, loss };
}

function kernelNames(graph: Graph, fuse: boolean, keep: Value[] = []): string[] {
  const lowered = lowerGraph(graph, { limits: LOWER_LIMITS, training: true }, keep, undefined, {
    fuse,
  });
  return lowered.dispatches.map(({ dispatch }) => dispatch.plan.spec.name);
}

const count = (names: string[], name: string) => names.filter((n) => n === name).length;

/** x -> `activation` -> `pool`, where `extra` may add a reader of the activation's output. */
function poolAfter(
  activation: 'relu' | 'leakyRelu',
  pool: 'maxPool' | 'avgPool',
  extra?: (graph: Graph, activated: Value, pooled: Value) => Value,
) {
  const graph = new Graph();
  const x = graph.addInput('x', [1, 2, 4, 4, 4]);
  const convolved = conv(graph, x, 'conv', 2);
  const activated =
    activation === 'relu'
      ? graph.addNode('relu', [convolved], {}, 'act')[0]!
      : graph.addNode('leakyRelu', [convolved], { negativeSlope: 0.1 }, 'act')[0]!;
  const poolExtra = pool === 'avgPool' ? { countIncludePad: true } : { dilation: [1, 1, 1] };
  const { dilation: _, ...common } = poolAttrs(3, 2);
  let pooled = graph.addNode(pool, [activated], { ...common, ...poolExtra }, 'pool')[0]!;
  if (extra) pooled = extra(graph, activated, pooled);
  return appendBackward(graph, headLoss(graph, pooled)).graph;
}

describe('relu gradient folded into max pooling', () => {
  it('saves 3 dispatches in a 3-block CNN', () => {
    const cnn = threeBlockCnn();
    const graph = appendBackward(cnn.graph, cnn.loss).graph;
    const folded = findPoolReluFusions(graph, []);
    assert.equal(folded.byPool.size, 3);
    assert.equal(folded.fused.size, 3);
    const fused = kernelNames(graph, true);
    const unfused = kernelNames(graph, false);
    assert.equal(count(unfused, 'relu'), 3);
    assert.equal(count(unfused, 'relu_backward'), 3);
    assert.equal(count(fused, 'relu'), 0);
    assert.equal(count(fused, 'relu_backward'), 0);
    // 3 relus go into the convolutions' epilogues and 3 relu gradients into the poolings.
    assert.equal(unfused.length - fused.length, 6);
  });

  // [title, graph, relu gradient dispatches left in the fused program]
  const cases: [string, () => Graph, number][] = [
    ['relu before max pooling', () => poolAfter('relu', 'maxPool'), 0],
    ['leakyRelu', () => poolAfter('leakyRelu', 'maxPool'), 1],
    ['average pooling', () => poolAfter('relu', 'avgPool'), 1],
    [
      'relu output with a second reader',
      () =>
        poolAfter('relu', 'maxPool', (graph, activated, pooled) => {
          const doubled = graph.addNode('maxPool', [activated], poolAttrs(3, 4, 2), 'pool2')[0]!;
          return graph.addNode('add', [pooled, doubled], {}, 'sum')[0]!;
        }),
      1,
    ],
    [
      'relu after max pooling',
      () =>
        poolAfter('leakyRelu', 'maxPool', (graph, _, pooled) => {
          return graph.addNode('relu', [pooled], {}, 'late')[0]!;
        }),
      2,
    ],
  ];
  for (const [title, build, left] of cases) {
    it(`folds only where it applies: ${title}`, () => {
      const graph = build();
      const names = kernelNames(graph, true);
      const gradients = names.filter((name) => /relu_backward$/i.test(name)).length;
      assert.equal(gradients, left, names.join(', '));
      assert.equal(findPoolReluFusions(graph, []).fused.size, left === 0 ? 1 : 0);
    });
  }

  it('keeps the gradient when fuse is false', () => {
    const graph = poolAfter('relu', 'maxPool');
    assert.equal(count(kernelNames(graph, false), 'relu_backward'), 1);
  });

  it('keeps the gradient when the pooled gradient is read back', () => {
    const graph = poolAfter('relu', 'maxPool');
    const poolGradient = graph.nodes.find((node) => node.op === 'maxPoolGrad')!.outputs[0]!;
    assert.equal(findPoolReluFusions(graph, [poolGradient]).fused.size, 0);
    assert.equal(count(kernelNames(graph, true, [poolGradient]), 'relu_backward'), 1);
  });
});

// ---- gradients on the GPU ----------------------------------------------------------------

interface Net {
  graph: Graph;
  loss: Value;
  /** Writes inputs and parameters that give windows all negative, of maximum 0 and with a NaN. */
  fill: (write: (name: string, data: Float32Array) => void) => void;
}

/** Inputs in [-1, 1) where plane 0 is all negative, plane 1 at most 0 and plane 2 contains a NaN. */
function craftedInput(shape: readonly number[], seed: number): Float32Array {
  const data = randomValues(numElements(shape), seed);
  const plane = numElements(shape.slice(2));
  for (let i = 0; i < plane; i++) {
    data[i] = -Math.abs(data[i]!) - 0.125;
    data[plane + i] = i % 3 === 0 ? 0 : -Math.abs(data[plane + i]!);
  }
  data[2 * plane + 5] = NaN;
  return data;
}

/** x -> relu -> maxPool with the input's gradient, relu standing alone. */
function standaloneNet(batch: number, spatial: number[], kernel: number, stride: number): Net {
  const graph = new Graph();
  const x = graph.addInput('x', [batch, 3, ...spatial]);
  const activated = graph.addNode('relu', [x], {}, 'act')[0]!;
  const attrs = poolAttrs(spatial.length, kernel, stride);
  const loss = headLoss(graph, graph.addNode('maxPool', [activated], attrs, 'pool')[0]!);
  return {
    graph,
    loss,
    fill: (write) => {
      write('x', craftedInput(x.shape, 3));
      write('head.weight', randomValues(numElements(loss.producer!.inputs[0]!.shape), 4));
    },
  };
}

/**
 * x -> conv(2 -> 4) -> relu -> maxPool 2, relu in the convolution's epilogue. Output channel 1
 * has zero weights and bias (every window's maximum is 0), channel 2 zero weights and a
 * negative bias (every window negative).
 */
function convNet(batch: number, spatial: number[]): Net {
  const graph = new Graph();
  const x = graph.addInput('x', [batch, 2, ...spatial]);
  const activated = graph.addNode('relu', [conv(graph, x, 'conv', 4)], {}, 'act')[0]!;
  const pooled = graph.addNode('maxPool', [activated], poolAttrs(3, 2), 'pool')[0]!;
  const loss = headLoss(graph, pooled);
  return {
    graph,
    loss,
    fill: (write) => {
      write('x', randomValues(numElements(x.shape), 5));
      const weight = randomValues(4 * 2 * 27, 6, -0.3, 0.3);
      weight.fill(0, 54, 3 * 54);
      write('conv.weight', weight);
      write('conv.bias', Float32Array.from([0.1, 0, -0.25, -0.3]));
      write('head.weight', randomValues(numElements(pooled.shape), 7));
    },
  };
}

/** x [batch, 3, 6, 5] -> linear(5 -> 4) -> relu -> 2D maxPool 2, relu in the linear epilogue. */
function linearNet(batch: number): Net {
  const graph = new Graph();
  const x = graph.addInput('x', [batch, 3, 6, 5]);
  const uniform = { kind: 'uniform', low: -0.5, high: 0.5 } as const;
  const weight = graph.addParam('fc.weight', [4, 5], uniform);
  const bias = graph.addParam('fc.bias', [4], uniform);
  const hidden = graph.addNode('linear', [x, weight, bias], {}, 'fc')[0]!;
  const activated = graph.addNode('relu', [hidden], {}, 'act')[0]!;
  const pooled = graph.addNode('maxPool', [activated], poolAttrs(2, 2), 'pool')[0]!;
  const loss = headLoss(graph, pooled);
  return {
    graph,
    loss,
    fill: (write) => {
      write('x', craftedInput(x.shape, 8));
      write('fc.weight', randomValues(20, 9, -0.5, 0.5));
      write('fc.bias', Float32Array.from([0, -0.2, 0.1, -2]));
      write('head.weight', randomValues(numElements(pooled.shape), 10));
    },
  };
}

describe('relu gradient folded into max pooling on the GPU', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  /** Runs one training step and reads the gradient of every parameter and of the input. */
  async function gradients(net: Net, fuse: boolean, maxBindingBytes?: number) {
    const backward = appendBackward(net.graph, net.loss, { inputs: ['x'] });
    const values = [...backward.gradients.values(), backward.inputGradients.get('x')!];
    const options = { keep: values, training: true, fuse, maxBindingBytes };
    const compiled = await compileGraph(gpu, backward.graph, options);
    net.fill((name, data) => {
      if (net.graph.input(name)) compiled.write(name, data);
      else compiled.writeState(name, data);
    });
    compiled.run();
    const names = compiled.program.dispatches.map(({ name }) => name);
    return { values: await Promise.all(values.map((v) => compiled.read(v))), names };
  }

  // [title, network, maxBindingBytes]
  const cases: [string, () => Net, number?][] = [
    ['standalone relu, odd sizes, batch 1', () => standaloneNet(1, [5, 7, 5], 2, 2)],
    ['standalone relu, overlapping windows', () => standaloneNet(2, [5, 6, 7], 3, 2)],
    ['standalone relu, 2x2x2 pairs, batch 2', () => standaloneNet(2, [4, 6, 4], 2, 2)],
    ['standalone relu split by plane', () => standaloneNet(2, [8, 4, 4], 2, 2), 1024],
    ['overlapping windows split by plane', () => standaloneNet(2, [9, 4, 5], 3, 2), 1536],
    ['conv epilogue, 2x2x2 pairs, batch 2', () => convNet(2, [4, 6, 4])],
    ['conv epilogue, odd sizes, batch 1', () => convNet(1, [5, 7, 5])],
    ['conv epilogue split by plane', () => convNet(2, [4, 8, 4]), 2048],
    ['linear epilogue, 2D pooling, batch 2', () => linearNet(2)],
  ];
  for (const [title, build, maxBindingBytes] of cases) {
    it(`gives unfolded gradients bit for bit: ${title}`, async () => {
      const fused = await gradients(build(), true, maxBindingBytes);
      const unfused = await gradients(build(), false, maxBindingBytes);
      assert.ok(!fused.names.some((name) => name.startsWith('relu_backward')), fused.names.join());
      assert.ok(unfused.names.some((name) => name.startsWith('relu_backward')));
      if (maxBindingBytes) {
        const pools = fused.names.filter((name) => name.startsWith('maxpool')).length;
        assert.ok(pools > 2, `${pools} max pooling dispatches`);
      }
      const input = fused.values.at(-1)!;
      assert.ok(input.some((value) => value !== 0 && !Number.isNaN(value)));
      fused.values.forEach((value, index) => {
        assert.deepEqual(value, unfused.values[index], `gradient ${index}`);
      });
    });
  }
});
