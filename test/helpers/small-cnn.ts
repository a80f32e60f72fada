// A small 3D CNN classifier in graph IR, shared by the compiler and training tests:
// conv(1 -> 4, kernel 3, padding 1) -> [batch or instance norm] -> relu -> maxPool 2 ->
// flatten -> linear(72 -> 3) -> cross-entropy, on a batch of 2 images of 1x6x7x5.

import { Graph } from '../../src/graph/ir.js';

export const IMAGE_SHAPE = [2, 1, 6, 7, 5];
export const PADDING: [number, number][] = [
  [1, 1],
  [1, 1],
  [1, 1],
];
export const CONV = { stride: [1, 1, 1], padding: PADDING, dilation: [1, 1, 1], groups: 1 };
export const POOL = {
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
export const LOSS = {
  fromLogits: true,
  reduction: 'mean',
  labelSmoothing: 0,
  ignoreIndex: -100,
} as const;

export type SmallCnnNorm = 'none' | 'batch' | 'instance';

export function smallCnn(norm: SmallCnnNorm = 'none') {
  const graph = new Graph();
  const image = graph.addInput('image', IMAGE_SHAPE);
  const label = graph.addInput('label', [2], 'i32');
  const uniform = (bound: number) => ({ kind: 'uniform', low: -bound, high: bound }) as const;
  const convWeight = graph.addParam('conv.weight', [4, 1, 3, 3, 3], uniform(0.3));
  // A norm would cancel a convolution bias, so the conv has one only without a norm.
  const convBias = norm === 'none' ? [graph.addParam('conv.bias', [4], uniform(0.3))] : [];
  const fcWeight = graph.addParam('fc.weight', [3, 72], uniform(0.2));
  const fcBias = graph.addParam('fc.bias', [3], uniform(0.2));
  let y = graph.addNode('conv', [image, convWeight, ...convBias], CONV, 'conv')[0]!;
  if (norm !== 'none') {
    const one = { kind: 'constant', value: 1 } as const;
    const zero = { kind: 'constant', value: 0 } as const;
    const weight = graph.addParam('norm.weight', [4], one);
    const bias = graph.addParam('norm.bias', [4], zero);
    if (norm === 'batch') {
      const mean = graph.addBuffer('norm.running_mean', [4], zero);
      const variance = graph.addBuffer('norm.running_var', [4], one);
      const count = graph.addBuffer('norm.num_batches_tracked', [], zero);
      const attrs = { eps: 1e-5, momentum: 0.1, affine: true, trackRunningStats: true };
      const inputs = [y, weight, bias, mean, variance, count];
      y = graph.addNode('batchNorm', inputs, attrs, 'norm')[0]!;
    } else {
      const attrs = { eps: 1e-5, affine: true };
      y = graph.addNode('instanceNorm', [y, weight, bias], attrs, 'norm')[0]!;
    }
  }
  y = graph.addNode('relu', [y], {}, 'act')[0]!;
  y = graph.addNode('maxPool', [y], POOL, 'pool')[0]!;
  y = graph.addNode('reshape', [y], { shape: [2, 72] }, 'flatten')[0]!;
  const scores = graph.addNode('linear', [y, fcWeight, fcBias], {}, 'fc')[0]!;
  const loss = graph.addNode('crossEntropy', [scores, label], LOSS, 'loss')[0]!;
  graph.setOutput('scores', scores);
  graph.setOutput('loss', loss);
  return { graph, loss };
}
