// One prediction per image from the predictions of its patches or slices, as ClinicaDL does:
// soft voting, the mean of the samples' class probabilities (the predicted class is the largest
// mean), or the mean of their values for regression. Every sample weighs the same.

import type { LoadedExperiment } from './load.js';
import type { SamplePrediction } from './predict.js';

/** Name of the voting rule, written beside the per-image predictions. */
export const VOTING_RULE = 'soft';

/** The prediction of a whole image, voted from its samples. */
export interface ImageVote {
  /** Number of samples (patches or slices) that voted. */
  samples: number;
  /** Mean of the samples' softmax probabilities (classification). */
  probabilities?: number[];
  /** Class with the largest mean probability (classification). */
  predicted?: number;
  /** Mean of the samples' values (regression). */
  value?: number;
}

/**
 * Returns the vote of `samples` for a classification or regression experiment; undefined for
 * voxel-wise tasks, whose samples are put back into one image instead.
 */
export function voteSamples(
  experiment: Pick<LoadedExperiment, 'task'>,
  samples: readonly SamplePrediction[],
): ImageVote | undefined {
  if (samples.length === 0) return undefined;
  if (experiment.task === 'regression') {
    const value = samples.reduce((total, sample) => total + sample.value!, 0) / samples.length;
    return { samples: samples.length, value };
  }
  if (experiment.task !== 'classification') return undefined;
  const classes = samples[0]!.probabilities!.length;
  const probabilities = new Array<number>(classes).fill(0);
  for (const sample of samples) {
    sample.probabilities!.forEach((probability, k) => (probabilities[k]! += probability));
  }
  for (let k = 0; k < classes; k++) probabilities[k]! /= samples.length;
  const predicted = probabilities.indexOf(Math.max(...probabilities));
  return { samples: samples.length, probabilities, predicted };
}
