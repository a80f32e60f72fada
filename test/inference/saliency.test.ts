import assert from 'node:assert/strict';

import { compileNetFile } from '../../src/dsl/compile.js';
import { memoryHost } from '../../src/dsl/modules.js';
import { numElements } from '../../src/graph/ir.js';
import { SaliencyProgram, predictedTargets, selectorData } from '../../src/inference/saliency.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { CNN_SOURCE, COMMON_SOURCE } from '../experiment/fixture.js';
import { runForward } from '../networks/cpu-forward.js';

const host = memoryHost({ 'cnn.net': CNN_SOURCE, 'common.net': COMMON_SOURCE });
const IN_SHAPE = [1, 4, 5, 3];

function network(batchSize: number, extra: string[]) {
  const set = [`inShape=[${IN_SHAPE.join(', ')}]`, 'numOutputs=3', ...extra];
  return compileNetFile(host, 'cnn.net', { network: 'CNN', set, batchSize }).graph;
}

function pattern(count: number, phase: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 1.37 + phase));
}

const NETWORKS: [string, string[]][] = [
  [
    'conv, pool and linear',
    ['convArgs={channels: [2], padding: 1, poolingIndices: [0], norm: none}'],
  ],
  ['instance norm', ['convArgs={channels: [2], padding: 1, norm: "instance"}']],
  ['batch norm in eval mode', ['convArgs={channels: [2], padding: 1, norm: "batch"}']],
];

/** Returns weights from a fixed pattern, with running variances kept positive. */
function patternWeights(graph: ReturnType<typeof network>, phase: number) {
  const weights = new Map<string, Float32Array>();
  for (const value of graph.stateValues()) {
    const data = pattern(numElements(value.shape), value.id + phase);
    if (value.name!.endsWith('running_var')) data.forEach((x, i) => (data[i] = 0.5 + x * x));
    weights.set(value.name!, data);
  }
  return weights;
}

describe('SaliencyProgram', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const [name, settings] of NETWORKS) {
    it(`matches finite differences: ${name}`, async () => {
      const batchSize = 2;
      const graph = network(batchSize, settings);
      const weights = patternWeights(graph, 0);
      const program = await SaliencyProgram.compile(gpu, graph, { weights });
      const input = pattern(batchSize * numElements(IN_SHAPE), 0.4);
      const targets = [2, 0];
      const result = await program.run(input, targets);
      assert.deepEqual(result.targets, targets);

      const single = network(1, settings);
      const state = new Map([...weights].map(([key, data]) => [key, Float64Array.from(data)]));
      const perSample = numElements(IN_SHAPE);
      for (let row = 0; row < batchSize; row++) {
        const sample = Float64Array.from(input.subarray(row * perSample, (row + 1) * perSample));
        const score = () => runForward(single, sample, state).data[targets[row]!]!;
        assert.ok(
          Math.abs(result.output[row * 3 + targets[row]!]! - score()) < 1e-4,
          `output of sample ${row}`,
        );
        for (let i = 0; i < perSample; i++) {
          const saved = sample[i]!;
          const h = 1e-4;
          sample[i] = saved + h;
          const up = score();
          sample[i] = saved - h;
          const down = score();
          sample[i] = saved;
          const expected = Math.abs((up - down) / (2 * h));
          const actual = result.saliency[row * perSample + i]!;
          assert.ok(
            Math.abs(actual - expected) <= 1e-3 * Math.max(1, expected),
            `sample ${row} voxel ${i}: ${actual} vs ${expected}`,
          );
        }
      }
    });
  }

  it('defaults to the predicted class', async () => {
    const graph = network(2, NETWORKS[0]![1]);
    const weights = patternWeights(graph, 0.5);
    const program = await SaliencyProgram.compile(gpu, graph, { weights });
    const result = await program.run(pattern(2 * numElements(IN_SHAPE), 1.7));
    assert.deepEqual(result.targets, predictedTargets(result.output, [2, 3]));
    const explicit = await program.run(pattern(2 * numElements(IN_SHAPE), 1.7), result.targets);
    assert.deepEqual(explicit.saliency, result.saliency);
  });

  it('rejects a batch of the wrong size', async () => {
    const program = await SaliencyProgram.compile(gpu, network(1, NETWORKS[0]![1]));
    await assert.rejects(program.run(new Float32Array(3)), /needs 60 values.*got 3/);
  });
});

describe('selectorData', () => {
  it('marks one class per sample', () => {
    assert.deepEqual([...selectorData([2, 3], [1, 2])], [0, 1, 0, 0, 0, 1]);
  });

  it('marks a channel of every voxel', () => {
    assert.deepEqual([...selectorData([1, 2, 2], [1])], [0, 0, 1, 1]);
  });

  const failures: [string, number[], number[], RegExp][] = [
    ['target out of range', [1, 3], [3], /target 3 is invalid.*0 to 2/],
    ['negative target', [1, 3], [-1], /target -1 is invalid/],
    ['too few targets', [2, 3], [0], /2 samples, got 1 targets/],
  ];
  for (const [name, shape, targets, message] of failures) {
    it(`rejects ${name}`, () => {
      assert.throws(() => selectorData(shape, targets), message);
    });
  }
});

describe('predictedTargets', () => {
  it('picks the largest score', () => {
    assert.deepEqual(predictedTargets(Float32Array.of(0, 2, 1, 5, -1, 0), [2, 3]), [1, 0]);
  });

  it('picks the channel of largest sum', () => {
    assert.deepEqual(predictedTargets(Float32Array.of(1, 1, 0, 3), [1, 2, 2]), [1]);
  });
});
