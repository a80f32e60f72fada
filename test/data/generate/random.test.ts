import assert from 'node:assert/strict';

import { randomSubjectSteps } from '../../../src/data/generate/random.js';
import {
  createSubjects,
  shuffledDiagnoses,
  type SubjectRecord,
} from '../../../src/data/generate/subjects.js';
import { runPipeline } from '../../../src/data/transforms/pipeline.js';
import type { Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { volumeOf, wasmKernels } from '../transforms/helpers.js';

const SEEDS = Array.from({ length: 20 }, (_, index) => index + 1);
const SUBJECTS = 20;
const NOISE_STD = 5;

/** Area under the ROC curve of `scores` for AD against CN (0.5 is chance). */
function auc(scores: readonly number[], subjects: readonly SubjectRecord[]): number {
  let wins = 0;
  let pairs = 0;
  subjects.forEach((ad, i) => {
    if (ad.diagnosis !== 'AD') return;
    subjects.forEach((cn, j) => {
      if (cn.diagnosis !== 'CN') return;
      pairs++;
      if (scores[i]! > scores[j]!) wins++;
      else if (scores[i] === scores[j]) wins += 0.5;
    });
  });
  return wins / pairs;
}

function meanIntensity(volume: Volume): number {
  return volume.data.reduce((sum, value) => sum + value, 0) / volume.data.length;
}

describe('random generator', () => {
  let backend: ImageBackend;
  const image = volumeOf([12, 12, 12], (i, j, k) => (i + j + k > 6 ? 100 : 0));

  before(async () => {
    backend = await wasmKernels();
  });

  /** Returns the AUC of mean intensity for each seed; `adScale` multiplies AD images. */
  function aucs(adScale: number): number[] {
    return SEEDS.map((seed) => {
      const subjects = createSubjects(shuffledDiagnoses(SUBJECTS, seed), seed);
      const scores = subjects.map((subject) => {
        const volume = runPipeline(backend, image, randomSubjectSteps(subject, NOISE_STD));
        return meanIntensity(volume) * (subject.diagnosis === 'AD' ? adScale : 1);
      });
      return auc(scores, subjects);
    });
  }

  it('gives labels that image intensity does not predict', () => {
    const values = aucs(1);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    // With 10 + 10 subjects one AUC has a std near 0.13, so the mean of 20 is near 0.03.
    assert.ok(Math.abs(mean - 0.5) < 0.1, `mean AUC ${mean} over ${values.length} seeds`);
    assert.ok(values.some((value) => value > 0.5) && values.some((value) => value < 0.5));
  });

  it('detects a class difference with the same statistic', () => {
    // The control: 1% brighter AD images give an AUC near 1, so the check above can fail.
    const values = aucs(1.01);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    assert.ok(mean > 0.95, `mean AUC ${mean}`);
  });

  it('adds noise of the requested std', () => {
    const [subject] = createSubjects(['CN'], 4);
    const volume = runPipeline(backend, image, randomSubjectSteps(subject!, NOISE_STD));
    let sum = 0;
    for (let i = 0; i < volume.data.length; i++) sum += (volume.data[i]! - image.data[i]!) ** 2;
    const std = Math.sqrt(sum / volume.data.length);
    assert.ok(Math.abs(std - NOISE_STD) < 0.3, `noise std ${std}`);
  });

  it('rejects a negative noise std', () => {
    const [subject] = createSubjects(['CN'], 4);
    assert.throws(() => randomSubjectSteps(subject!, -1), /Noise std -1 is invalid/);
  });
});
