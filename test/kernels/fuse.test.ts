import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph, type Value } from '../../src/graph/ir.js';
import '../../src/kernels/compile.js';
import { findEpilogueFusions } from '../../src/kernels/fuse.js';
import { lowerGraph } from '../../src/kernels/lower-graph.js';
import { CONV, smallCnn } from '../helpers/small-cnn.js';
import { LOWER_LIMITS } from './helpers.js';

function kernelNames(graph: Graph, fuse: boolean, keep: Value[] = []): string[] {
  const lowered = lowerGraph(graph, { limits: LOWER_LIMITS, training: true }, keep, undefined, {
    fuse,
  });
  return lowered.dispatches.map(({ dispatch }) => dispatch.plan.spec.name);
}

describe('epilogue fusion', () => {
  it('folds relu into the convolution of a training graph', () => {
    const { graph, loss } = smallCnn();
    const backward = appendBackward(graph, loss).graph;
    // Reading back max pooling's input gradient keeps relu's gradient out of the pooling
    // (see fuse-pool.ts), so that it runs here.
    const pooled = backward.nodes.find((node) => node.op === 'maxPoolGrad')!.outputs[0]!;
    const fused = kernelNames(backward, true, [pooled]);
    const unfused = kernelNames(backward, false, [pooled]);
    assert.ok(unfused.includes('relu'));
    assert.ok(!fused.includes('relu'));
    assert.equal(fused.length, unfused.length - 1);
    // The gradient of relu still runs, reading relu's output.
    assert.ok(fused.includes('relu_backward'));
  });

  it('keeps an activation whose input is read elsewhere', () => {
    const graph = new Graph();
    const x = graph.addInput('x', [2, 3]);
    const w = graph.addParam('w', [4, 3], { kind: 'constant', value: 0.5 });
    const h = graph.addNode('linear', [x, w], {})[0]!;
    const y = graph.addNode('relu', [h], {})[0]!;
    graph.setOutput('sum', graph.addNode('add', [h, y], {})[0]!);
    assert.equal(findEpilogueFusions(graph, []).fused.size, 0);
  });

  it('keeps leakyRelu with a negative slope', () => {
    const graph = new Graph();
    const x = graph.addInput('x', [2, 3]);
    const w = graph.addParam('w', [4, 3], { kind: 'constant', value: 0.5 });
    const h = graph.addNode('linear', [x, w], {})[0]!;
    graph.setOutput('y', graph.addNode('leakyRelu', [h], { negativeSlope: -0.2 })[0]!);
    assert.equal(findEpilogueFusions(graph, []).fused.size, 0);
  });

  it('keeps an activation whose input must be read back', () => {
    const graph = new Graph();
    const x = graph.addInput('x', [2, 3]);
    const w = graph.addParam('w', [4, 3], { kind: 'constant', value: 0.5 });
    const h = graph.addNode('linear', [x, w], {})[0]!;
    graph.setOutput('y', graph.addNode('sigmoid', [h], {})[0]!);
    assert.equal(findEpilogueFusions(graph, []).fused.size, 1);
    assert.equal(findEpilogueFusions(graph, [h]).fused.size, 0);
  });

  /** conv -> batchNorm -> add -> relu with the variations of the cases below. */
  function chain(options: {
    trackRunningStats?: boolean;
    residualShape?: number[];
    keepNorm?: boolean;
  }) {
    const graph = new Graph();
    const x = graph.addInput('x', [1, 2, 4, 4, 4]);
    const w = graph.addParam('w', [3, 2, 3, 3, 3], { kind: 'constant', value: 0.5 });
    const constant = (value: number) => ({ kind: 'constant', value }) as const;
    const track = options.trackRunningStats ?? true;
    const running = track
      ? [
          graph.addBuffer('bn.running_mean', [3], constant(0)),
          graph.addBuffer('bn.running_var', [3], constant(1)),
          graph.addBuffer('bn.num_batches_tracked', [], constant(0)),
        ]
      : [];
    const h = graph.addNode('conv', [x, w], CONV)[0]!;
    const attrs = { eps: 1e-5, momentum: 0.1, affine: false, trackRunningStats: track };
    const n = graph.addNode('batchNorm', [h, ...running], attrs)[0]!;
    const residual = graph.addInput('residual', options.residualShape ?? [1, 3, 4, 4, 4]);
    const sum = graph.addNode('add', [n, residual], {})[0]!;
    graph.setOutput('y', graph.addNode('relu', [sum], {})[0]!);
    return { graph, keep: options.keepNorm ? [n] : [] };
  }

  const chainCases: [string, Parameters<typeof chain>[0], boolean, string[]][] = [
    ['norm, residual and relu in eval', {}, false, ['batchNorm', 'add', 'relu']],
    ['no norm in training', {}, true, []],
    ['no norm without running statistics', { trackRunningStats: false }, false, []],
    ['no broadcast residual', { residualShape: [1, 3, 1, 1, 1] }, false, ['batchNorm']],
    ['nothing past a kept value', { keepNorm: true }, false, ['batchNorm']],
  ];
  for (const [title, options, training, expected] of chainCases) {
    it(`fuses ${title}`, () => {
      const { graph, keep } = chain(options);
      const { fused } = findEpilogueFusions(graph, keep, training);
      const ops = graph.nodes.filter((node) => fused.has(node.id)).map((node) => node.op);
      assert.deepEqual(ops, expected);
    });
  }

  it('folds no norm into a linear layer', () => {
    const graph = new Graph();
    const x = graph.addInput('x', [2, 3]);
    const w = graph.addParam('w', [4, 3], { kind: 'constant', value: 0.5 });
    const mean = graph.addBuffer('bn.running_mean', [4], { kind: 'constant', value: 0 });
    const variance = graph.addBuffer('bn.running_var', [4], { kind: 'constant', value: 1 });
    const count = graph.addBuffer('bn.num_batches_tracked', [], { kind: 'constant', value: 0 });
    const h = graph.addNode('linear', [x, w], {})[0]!;
    const attrs = { eps: 1e-5, momentum: 0.1, affine: false, trackRunningStats: true };
    graph.setOutput('y', graph.addNode('batchNorm', [h, mean, variance, count], attrs)[0]!);
    assert.equal(findEpilogueFusions(graph, [], false).fused.size, 0);
  });

  it('fuses relu into a training batch norm', () => {
    const graph = new Graph();
    const x = graph.addInput('x', [2, 3, 4]);
    const constant = (value: number) => ({ kind: 'constant', value }) as const;
    const weight = graph.addParam('bn.weight', [3], constant(1));
    const bias = graph.addParam('bn.bias', [3], constant(0));
    const attrs = { eps: 1e-5, momentum: 0.1, affine: true, trackRunningStats: false };
    const norm = graph.addNode('batchNorm', [x, weight, bias], attrs);
    graph.setOutput('y', graph.addNode('relu', [norm[0]!], {})[0]!);
    const { byProducer, fused } = findEpilogueFusions(graph, [], true);
    const fusion = byProducer.get(graph.nodes[0]!.id);
    assert.equal(fusion?.activation, 'relu');
    assert.deepEqual(
      graph.nodes.filter((node) => fused.has(node.id)).map((node) => node.op),
      ['relu'],
    );
    const names = kernelNames(graph, true);
    assert.ok(!names.includes('relu'), names.join(', '));
    assert.ok(kernelNames(graph, false).includes('relu'));
  });

  it('lowers a fused producer where its chain ends', () => {
    const { graph } = chain({});
    const lowered = lowerGraph(graph, { limits: LOWER_LIMITS, training: false }, [], undefined, {});
    const names = lowered.dispatches.map(({ dispatch }) => dispatch.plan.spec.name);
    assert.deepEqual(names, ['batchNorm_running', 'conv3d_forward_direct']);
    assert.equal(lowered.dispatches[1]!.tensors.length, 8);
  });
});
