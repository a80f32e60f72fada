import assert from 'node:assert/strict';

import type { ExperimentTask } from '../../src/experiment/load.js';
import type { SamplePrediction } from '../../src/experiment/predict.js';
import { voteSamples, type ImageVote } from '../../src/experiment/vote.js';

const output = new Float32Array(0);
const classified = (probabilities: number[]): SamplePrediction => ({
  output,
  probabilities,
  predicted: probabilities.indexOf(Math.max(...probabilities)),
});
const valued = (value: number): SamplePrediction => ({ output, value });

describe('voteSamples', () => {
  const cases: [string, ExperimentTask, SamplePrediction[], ImageVote | undefined][] = [
    [
      'averages class probabilities',
      'classification',
      [classified([0.9, 0.1]), classified([0.2, 0.8]), classified([0.3, 0.7])],
      { samples: 3, probabilities: [1.4 / 3, 1.6 / 3], predicted: 1 },
    ],
    [
      'lets one confident sample outweigh two',
      'classification',
      [classified([0.45, 0.55]), classified([0.4, 0.6]), classified([0.95, 0.05])],
      { samples: 3, probabilities: [0.6, 0.4], predicted: 0 },
    ],
    [
      'averages three classes',
      'classification',
      [classified([0.2, 0.3, 0.5]), classified([0.1, 0.6, 0.3])],
      { samples: 2, probabilities: [0.15, 0.45, 0.4], predicted: 1 },
    ],
    [
      'averages regression values',
      'regression',
      [valued(1.5), valued(-0.5), valued(2)],
      { samples: 3, value: 1 },
    ],
    ['keeps a single sample', 'regression', [valued(7)], { samples: 1, value: 7 }],
    ['skips segmentation', 'segmentation', [{ output }, { output }], undefined],
    ['skips reconstruction', 'reconstruction', [{ output }], undefined],
    ['skips an empty list', 'classification', [], undefined],
  ];
  for (const [name, task, samples, expected] of cases) {
    it(name, () => {
      const vote = voteSamples({ task }, samples);
      if (expected === undefined) {
        assert.equal(vote, undefined);
        return;
      }
      assert.equal(vote!.samples, expected.samples);
      assert.equal(vote!.predicted, expected.predicted);
      if (expected.value !== undefined) assert.ok(Math.abs(vote!.value! - expected.value) < 1e-12);
      expected.probabilities?.forEach((probability, k) => {
        assert.ok(Math.abs(vote!.probabilities![k]! - probability) < 1e-12, `class ${k}`);
      });
    });
  }
});
