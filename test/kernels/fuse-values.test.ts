// Fused and unfused programs on the GPU: the same values from fewer dispatches.

import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph, numElements, type Value } from '../../src/graph/ir.js';
import { compileGraph, type CompiledGraph } from '../../src/kernels/compile.js';
import { ResNetConfig } from '../../src/networks/resnet.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { CONV, LOSS, POOL } from '../helpers/small-cnn.js';

/** Values in [low, high) from a fixed linear congruential sequence. */
function seeded(count: number, seed: number, low = -1, high = 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return low + ((high - low) * state) / 2 ** 32;
  });
}

/** Writes seeded values to every input and state tensor; variances stay positive. */
function fill(compiled: CompiledGraph, graph: Graph, labels?: Int32Array): void {
  graph.inputs.forEach(({ name, value }, index) => {
    if (value.dtype === 'i32') compiled.write(name, labels!);
    else compiled.write(name, seeded(numElements(value.shape), 100 + index));
  });
  graph.stateValues().forEach((state, index) => {
    if (state.dtype !== 'f32' || state.name!.endsWith('num_batches_tracked')) return;
    const positive = state.name!.endsWith('running_var') || state.name!.endsWith('.weight');
    const [low, high] = positive ? [0.5, 1.5] : [-0.5, 0.5];
    compiled.writeState(state.name!, seeded(numElements(state.shape), 7 + index, low, high));
  });
}

function addBatchNorm(graph: Graph, x: Value, name: string, affine: boolean): Value {
  const channels = x.shape[1]!;
  const constant = (value: number) => ({ kind: 'constant', value }) as const;
  const parameters = affine
    ? [
        graph.addParam(`${name}.weight`, [channels], constant(1)),
        graph.addParam(`${name}.bias`, [channels], constant(0)),
      ]
    : [];
  const running = [
    graph.addBuffer(`${name}.running_mean`, [channels], constant(0)),
    graph.addBuffer(`${name}.running_var`, [channels], constant(1)),
    graph.addBuffer(`${name}.num_batches_tracked`, [], constant(0)),
  ];
  const attrs = { eps: 1e-5, momentum: 0.1, affine, trackRunningStats: true };
  return graph.addNode('batchNorm', [x, ...parameters, ...running], attrs, name)[0]!;
}

function addConv(graph: Graph, x: Value, name: string, outChannels: number, bias: boolean) {
  const uniform = { kind: 'uniform', low: -0.3, high: 0.3 } as const;
  const weight = graph.addParam(`${name}.weight`, [outChannels, x.shape[1]!, 3, 3, 3], uniform);
  const biases = bias ? [graph.addParam(`${name}.bias`, [outChannels], uniform)] : [];
  return graph.addNode('conv', [x, weight, ...biases], CONV, name)[0]!;
}

type Block = 'affine norm, relu' | 'plain norm' | 'norm, residual, relu' | 'residual, relu';

/** Builds a convolution and the chain under test, on a [2, inChannels, 5, 6, 4] input. */
function block(kind: Block, inChannels = 3): Graph {
  const graph = new Graph();
  const x = graph.addInput('x', [2, inChannels, 5, 6, 4]);
  let y = addConv(graph, x, 'conv', 4, kind !== 'plain norm');
  if (kind !== 'residual, relu') y = addBatchNorm(graph, y, 'bn', kind !== 'plain norm');
  if (kind.includes('residual')) {
    // The shortcut is built after the main branch, as torchvision's BasicBlock does.
    let shortcut = addConv(graph, x, 'shortcut', 4, false);
    if (kind.startsWith('norm')) shortcut = addBatchNorm(graph, shortcut, 'shortcut_bn', true);
    y = graph.addNode('add', [y, shortcut], {}, 'add')[0]!;
  }
  if (kind.endsWith('relu')) y = graph.addNode('relu', [y], {}, 'act')[0]!;
  graph.setOutput('y', y);
  return graph;
}

/**
 * Builds a transposed convolution (weight [inChannels, 4, 3, 3, 3], padding 1) on a
 * [2, inChannels, ...size] input, then an eval-mode batch norm, the addition of an input of
 * the output's shape and relu. Stride 1 runs the direct kernel (few input channels) or the
 * GEMM (40 of them); stride 2 runs the GEMM split into stride phases.
 */
function transposedBlock(stride: number, inChannels: number, size = [3, 4, 3]): Graph {
  const graph = new Graph();
  const x = graph.addInput('x', [2, inChannels, ...size]);
  const uniform = { kind: 'uniform', low: -0.3, high: 0.3 } as const;
  const weight = graph.addParam('up.weight', [inChannels, 4, 3, 3, 3], uniform);
  const bias = graph.addParam('up.bias', [4], uniform);
  const attrs = { ...CONV, stride: [stride, stride, stride], outputPadding: [0, 0, 0] };
  if (stride > 1) attrs.outputPadding = [1, 1, 1];
  let y = graph.addNode('convTranspose', [x, weight, bias], attrs, 'up')[0]!;
  y = addBatchNorm(graph, y, 'bn', true);
  const residual = graph.addInput('residual', [...y.shape]);
  y = graph.addNode('add', [y, residual], {}, 'add')[0]!;
  graph.setOutput('y', graph.addNode('relu', [y], {}, 'act')[0]!);
  return graph;
}

/**
 * Asserts that `fused` matches `unfused` within 4 ulps of the largest unfused magnitude. The
 * epilogue repeats norm-apply's arithmetic in the same order, and lavapipe gives identical
 * bits, but a driver may contract a * b + c into one fma in one kernel and not the other.
 */
function assertClose(fused: Float32Array, unfused: Float32Array, what: string): void {
  assert.equal(fused.length, unfused.length);
  const scale = unfused.reduce((max, value) => Math.max(max, Math.abs(value)), 0);
  const difference = fused.reduce(
    (max, value, i) => Math.max(max, Math.abs(value - unfused[i]!)),
    0,
  );
  assert.ok(difference <= 4 * 2 ** -23 * scale, `${what}: differs by ${difference}`);
}

describe('epilogue fusion on the GPU', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  // Dispatches other than weight packing, whose count depends on which layers fit the
  // adapter's uniform binding limit (see planDirectPacking).
  function countDispatches(compiled: CompiledGraph): number {
    return compiled.program.dispatches.filter(({ name }) => !name.endsWith('_pack_weight')).length;
  }

  async function evaluate(graph: Graph, fuse: boolean, maxBindingBytes?: number) {
    const compiled = await compileGraph(gpu, graph, { training: false, fuse, maxBindingBytes });
    fill(compiled, graph);
    compiled.run();
    const output = await compiled.read(graph.outputs[0]!.value);
    return { output, dispatches: countDispatches(compiled) };
  }

  const evalCases: { kind: Block; saved: number; inChannels?: number }[] = [
    // Each folded norm still runs bn-running, but not norm-apply.
    { kind: 'affine norm, relu', saved: 2 },
    { kind: 'plain norm', saved: 1 },
    // The shortcut's norm folds into the shortcut's convolution.
    { kind: 'norm, residual, relu', saved: 4 },
    { kind: 'residual, relu', saved: 2 },
    // 40 input channels x 27 taps run the implicit GEMM kernel instead of the direct one.
    { kind: 'norm, residual, relu', saved: 4, inChannels: 40 },
  ];
  for (const { kind, saved, inChannels } of evalCases) {
    const title = inChannels ? `${kind} (GEMM)` : kind;
    it(`gives unfused values in eval: ${title}`, async function () {
      // Lavapipe compiles each new GEMM variant once, which took up to a minute on a loaded
      // 2-core machine; its shader cache makes later runs fast.
      this.timeout(600_000);
      const graph = block(kind, inChannels);
      const fused = await evaluate(graph, true);
      const unfused = await evaluate(graph, false);
      assert.equal(unfused.dispatches - fused.dispatches, saved);
      assert.ok(unfused.output.some((value) => value !== 0));
      assertClose(fused.output, unfused.output, kind);
    });
  }

  // The norm, the residual and relu fold into the transposed convolution: it then runs
  // bn-running, the convolution and nothing else of the chain (norm-apply, add, relu saved).
  for (const [stride, inChannels] of [
    [1, 3],
    [1, 40],
    [2, 3],
  ]) {
    it(`gives unfused values in eval: transposed, stride ${stride}, ${inChannels} in`, async function () {
      this.timeout(600_000);
      const graph = transposedBlock(stride!, inChannels!);
      const fused = await evaluate(graph, true);
      const unfused = await evaluate(graph, false);
      assert.equal(unfused.dispatches - fused.dispatches, 3);
      assert.ok(unfused.output.some((value) => value !== 0));
      assertClose(fused.output, unfused.output, `stride ${stride}`);
    });
  }

  it('gives unfused values for a transposed convolution split by samples', async () => {
    // Its input, output and residual (2880 and 3840 bytes) are over the 2048-byte limit, one
    // sample of each is not.
    const graph = transposedBlock(1, 3, [4, 6, 5]);
    const split = await evaluate(graph, true, 2048);
    const unsplit = await evaluate(graph, false);
    assert.ok(split.dispatches > 2);
    assertClose(split.output, unsplit.output, 'split transposed');
  });

  // A training-mode batch norm takes the relu into its own kernel (norm-apply.wgsl), also when
  // it runs as one dispatch per sample (a 2048-byte binding limit, with a max pooling that
  // makes the mean's input fit). `saved` is undefined where the split changes the count.
  const trainingCases: { kind: Block; saved?: number; maxBindingBytes?: number }[] = [
    { kind: 'residual, relu', saved: 2 },
    { kind: 'affine norm, relu', saved: 1 },
    { kind: 'affine norm, relu', maxBindingBytes: 2048 },
  ];
  for (const { kind, saved, maxBindingBytes } of trainingCases) {
    const title = maxBindingBytes ? `${kind}, split by samples` : kind;
    it(`gives unfused gradients in training: ${title}`, async () => {
      const forward = block(kind);
      let features = forward.outputs[0]!.value;
      if (maxBindingBytes) {
        features = forward.addNode('maxPool', [features], POOL, 'pool')[0]!;
      }
      const scores = forward.addNode('mean', [features], {
        axes: [2, 3, 4],
        keepDims: false,
      })[0]!;
      const labels = forward.addInput('label', [2], 'i32');
      const loss = forward.addNode('crossEntropy', [scores, labels], LOSS, 'loss')[0]!;
      const { graph, gradients } = appendBackward(forward, loss);
      const keep = [loss, ...gradients.values()];
      const results = [];
      for (const fuse of [true, false]) {
        const options = { training: true, fuse, keep, maxBindingBytes };
        const compiled = await compileGraph(gpu, graph, options);
        fill(compiled, graph, Int32Array.from([1, 3]));
        compiled.run();
        const values = await Promise.all(keep.map((v) => compiled.read(v)));
        results.push({ values, dispatches: countDispatches(compiled) });
      }
      const [fused, unfused] = results;
      if (saved !== undefined) assert.equal(unfused!.dispatches - fused!.dispatches, saved);
      else assert.ok(fused!.dispatches < unfused!.dispatches);
      keep.forEach((_, index) => {
        assertClose(fused!.values[index]!, unfused!.values[index]!, `value ${index}`);
      });
    });
  }

  it('gives unfused values split by samples', async () => {
    const graph = block('norm, residual, relu');
    // Each convolution's output (3840 bytes) is over the limit, so both convolutions run as
    // one dispatch per sample, with the residual bound by the same windows.
    const split = await evaluate(graph, true, 2048);
    const unsplit = await evaluate(graph, false);
    assert.equal(split.dispatches, 6);
    assertClose(split.output, unsplit.output, 'split');
  });

  it('folds every norm and residual of a ResNet in eval', async () => {
    const config = new ResNetConfig({
      spatialDims: 3,
      inChannels: 1,
      numOutputs: 2,
      nFeatures: [4, 8],
      nResBlocks: [1, 1],
      initConvSize: 3,
    });
    const graph = config.toGraph({ batchSize: 1, inputShape: [1, 8, 8, 8] });
    const fused = await evaluate(graph, true);
    const unfused = await evaluate(graph, false);
    assert.equal(unfused.dispatches, 28);
    assert.equal(fused.dispatches, 15);
    assertClose(fused.output, unfused.output, 'ResNet output');
  });
});
