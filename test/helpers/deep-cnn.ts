// A deep 3D CNN in graph IR for the gradient checkpointing tests: `depth` blocks of
// conv(3x3x3, padding 1) -> [batch norm] -> relu -> [dropout], a global mean over the volume,
// linear to 3 classes and cross-entropy, on a batch of 2 single-channel volumes.

import { Graph, type Value } from '../../src/graph/ir.js';
import { CONV, LOSS } from './small-cnn.js';

export interface DeepCnnOptions {
  depth: number;
  /** Edge of the cubic input volume. */
  size: number;
  channels: number;
  batchNorm?: boolean;
  /** Dropout probability after every block's activation; default none. */
  dropout?: number;
}

export function deepCnn(options: DeepCnnOptions) {
  const { depth, size, channels } = options;
  const graph = new Graph();
  const image = graph.addInput('image', [2, 1, size, size, size]);
  const label = graph.addInput('label', [2], 'i32');
  const uniform = (bound: number) => ({ kind: 'uniform', low: -bound, high: bound }) as const;
  const constant = (value: number) => ({ kind: 'constant', value }) as const;
  let y: Value = image;
  for (let layer = 0; layer < depth; layer++) {
    const name = `block${layer}`;
    const inChannels = y.shape[1]!;
    const weight = graph.addParam(`${name}.conv.weight`, [channels, inChannels, 3, 3, 3], {
      ...uniform(1 / Math.sqrt(inChannels * 27)),
    });
    const bias = graph.addParam(`${name}.conv.bias`, [channels], uniform(0.1));
    y = graph.addNode('conv', [y, weight, bias], CONV, `${name}.conv`)[0]!;
    if (options.batchNorm) {
      const inputs = [
        y,
        graph.addParam(`${name}.bn.weight`, [channels], constant(1)),
        graph.addParam(`${name}.bn.bias`, [channels], constant(0)),
        graph.addBuffer(`${name}.bn.running_mean`, [channels], constant(0)),
        graph.addBuffer(`${name}.bn.running_var`, [channels], constant(1)),
        graph.addBuffer(`${name}.bn.num_batches_tracked`, [], constant(0)),
      ];
      const attrs = { eps: 1e-5, momentum: 0.1, affine: true, trackRunningStats: true };
      y = graph.addNode('batchNorm', inputs, attrs, `${name}.bn`)[0]!;
    }
    y = graph.addNode('relu', [y], {}, `${name}.act`)[0]!;
    if (options.dropout !== undefined) {
      y = graph.addNode('dropout', [y], { p: options.dropout }, `${name}.dropout`)[0]!;
    }
  }
  const pooled = graph.addNode('mean', [y], { axes: [2, 3, 4], keepDims: false }, 'pool')[0]!;
  const fcWeight = graph.addParam('fc.weight', [3, channels], uniform(0.3));
  const fcBias = graph.addParam('fc.bias', [3], uniform(0.3));
  const scores = graph.addNode('linear', [pooled, fcWeight, fcBias], {}, 'fc')[0]!;
  const loss = graph.addNode('crossEntropy', [scores, label], LOSS, 'loss')[0]!;
  graph.setOutput('scores', scores);
  graph.setOutput('loss', loss);
  return { graph, loss };
}

/** Returns a seeded batch for deepCnn: values in [-1, 1) and labels 0 and 2. */
export function deepCnnBatch(size: number, seed: number) {
  let state = seed >>> 0;
  const image = Float32Array.from({ length: 2 * size ** 3 }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
  return { image, label: Int32Array.from([0, 2]) };
}
