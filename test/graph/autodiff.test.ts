import assert from 'node:assert/strict';
import { hasVjp } from '../../src/graph/autodiff-registry.js';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph, type Value } from '../../src/graph/ir.js';
import { FORWARD_OP_NAMES } from '../../src/graph/ops/index.js';

const UNIFORM = { kind: 'uniform', low: -0.1, high: 0.1 } as const;

/** conv 3x3x3 -> batchNorm -> relu -> maxPool 2 -> flatten -> linear -> logSoftmax -> mean. */
function smallCnn(): { graph: Graph; loss: Value } {
  const graph = new Graph();
  const x = graph.addInput('image', [2, 1, 6, 6, 6]);
  const weight = graph.addParam('conv.weight', [4, 1, 3, 3, 3], UNIFORM);
  const bias = graph.addParam('conv.bias', [4], UNIFORM);
  const pad: [number, number][] = [
    [1, 1],
    [1, 1],
    [1, 1],
  ];
  const conv = { stride: [1, 1, 1], padding: pad, dilation: [1, 1, 1], groups: 1 };
  let y = graph.addNode('conv', [x, weight, bias], conv, 'conv')[0]!;
  const bnWeight = graph.addParam('bn.weight', [4], { kind: 'constant', value: 1 });
  const bnBias = graph.addParam('bn.bias', [4], { kind: 'constant', value: 0 });
  const runningMean = graph.addBuffer('bn.running_mean', [4], { kind: 'constant', value: 0 });
  const runningVar = graph.addBuffer('bn.running_var', [4], { kind: 'constant', value: 1 });
  const batches = graph.addBuffer('bn.num_batches_tracked', [], { kind: 'constant', value: 0 });
  const bn = { eps: 1e-5, momentum: 0.1, affine: true, trackRunningStats: true };
  y = graph.addNode(
    'batchNorm',
    [y, bnWeight, bnBias, runningMean, runningVar, batches],
    bn,
    'bn',
  )[0]!;
  y = graph.addNode('relu', [y], {}, 'act')[0]!;
  const pool = {
    kernelSize: [2, 2, 2],
    stride: [2, 2, 2],
    padding: [
      [0, 0],
      [0, 0],
      [0, 0],
    ] as [number, number][],
    dilation: [1, 1, 1],
    ceilMode: false,
  };
  y = graph.addNode('maxPool', [y], pool, 'pool')[0]!;
  y = graph.addNode('reshape', [y], { shape: [2, 4 * 27] }, 'flatten')[0]!;
  const fcWeight = graph.addParam('fc.weight', [3, 108], UNIFORM);
  const fcBias = graph.addParam('fc.bias', [3], UNIFORM);
  y = graph.addNode('linear', [y, fcWeight, fcBias], {}, 'fc')[0]!;
  y = graph.addNode('logSoftmax', [y], { axis: 1 }, 'logits')[0]!;
  const loss = graph.addNode('mean', [y], { axes: [0, 1], keepDims: false }, 'loss')[0]!;
  return { graph, loss };
}

describe('appendBackward', () => {
  it('gives every parameter a gradient of its shape', () => {
    const { graph, loss } = smallCnn();
    const result = appendBackward(graph, loss);
    assert.equal(result.gradients.size, graph.params.length);
    for (const param of graph.params) {
      const grad = result.gradients.get(param.name!);
      assert.ok(grad, `no gradient for ${param.name}`);
      assert.deepEqual(grad.shape, param.shape, param.name);
    }
  });

  it('leaves the forward graph unchanged', () => {
    const { graph, loss } = smallCnn();
    const nodes = graph.nodes.length;
    const result = appendBackward(graph, loss);
    assert.equal(graph.nodes.length, nodes);
    assert.ok(result.graph.nodes.length > nodes);
  });

  it('emits the specialised gradient ops', () => {
    const { graph, loss } = smallCnn();
    const ops = new Set(appendBackward(graph, loss).graph.nodes.map((node) => node.op as string));
    for (const op of [
      'convWeightGrad',
      'batchNormGrad',
      'unaryGrad',
      'maxPoolGrad',
      'logSoftmaxGrad',
    ]) {
      assert.ok(ops.has(op), op);
    }
    // The first layer's input needs no gradient, so no input-gradient convolution is emitted.
    assert.ok(!ops.has('convInputGrad'));
  });

  it('sums the gradients of a value used twice', () => {
    const graph = new Graph();
    const x = graph.addInput('x', [3]);
    const w = graph.addParam('w', [3], UNIFORM);
    const a = graph.addNode('mul', [x, w], {})[0]!;
    const b = graph.addNode('mul', [a, w], {})[0]!;
    const loss = graph.addNode('sum', [b], { axes: [0], keepDims: false })[0]!;
    const result = appendBackward(graph, loss);
    const adds = result.graph.nodes.filter((node) => node.op === 'add');
    assert.equal(adds.length, 1);
    assert.equal(result.gradients.get('w'), adds[0]!.outputs[0]);
  });

  it('reduces broadcast gradients to the input shape', () => {
    const graph = new Graph();
    const x = graph.addInput('x', [2, 4, 5]);
    const b = graph.addParam('b', [4, 1], UNIFORM);
    const y = graph.addNode('add', [x, b], {})[0]!;
    const loss = graph.addNode('sum', [y], { axes: [0, 1, 2], keepDims: false })[0]!;
    assert.deepEqual(appendBackward(graph, loss).gradients.get('b')!.shape, [4, 1]);
  });

  it('differentiates cross-entropy through its scores only', () => {
    const graph = new Graph();
    const x = graph.addInput('image', [4, 5]);
    const targets = graph.addInput('label', [4], 'i32');
    const weight = graph.addParam('fc.weight', [3, 5], UNIFORM);
    const scores = graph.addNode('linear', [x, weight], {})[0]!;
    const attrs = {
      fromLogits: true,
      reduction: 'mean',
      labelSmoothing: 0,
      ignoreIndex: -100,
    } as const;
    const loss = graph.addNode('crossEntropy', [scores, targets], attrs)[0]!;
    assert.deepEqual(loss.shape, []);
    const result = appendBackward(graph, loss);
    const gradient = result.graph.nodes.find((node) => node.op === 'crossEntropyGrad');
    assert.ok(gradient);
    assert.deepEqual(gradient.outputs[0]!.shape, [4, 3]);
    assert.deepEqual(result.gradients.get('fc.weight')!.shape, [3, 5]);
  });

  it('has a rule for every forward op', () => {
    const missing = FORWARD_OP_NAMES.filter((op) => !hasVjp(op));
    assert.deepEqual(missing, []);
  });
});
