import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph } from '../../src/graph/ir.js';
import '../../src/kernels/compile.js';
import { findEpilogueFusions } from '../../src/kernels/fuse.js';
import { lowerGraph } from '../../src/kernels/lower-graph.js';
import { smallCnn } from '../helpers/small-cnn.js';

const LIMITS = {
  maxStorageBufferBindingSize: 1 << 27,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
} as unknown as GPUSupportedLimits;

function kernelNames(graph: Graph, fuse: boolean): string[] {
  const lowered = lowerGraph(graph, { limits: LIMITS, training: true }, [], undefined, { fuse });
  return lowered.dispatches.map(({ dispatch }) => dispatch.plan.spec.name);
}

describe('epilogue fusion', () => {
  it('folds relu into the convolution of a training graph', () => {
    const { graph, loss } = smallCnn();
    const backward = appendBackward(graph, loss).graph;
    const fused = kernelNames(backward, true);
    const unfused = kernelNames(backward, false);
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
});
