// The 'random' dataset, after ClinicaDL's `generate random`: every subject is the same input
// image plus its own Gaussian noise, and labels are drawn apart from the images (half CN, half
// AD, shuffled by the dataset seed). No classifier can beat chance on it, which makes it a
// sanity check for a training setup that reports good results.

import { UserError } from '../../errors.js';
import type { PreprocessStep } from '../transforms/pipeline.js';
import type { SubjectRecord } from './subjects.js';

export interface RandomOptions {
  /** Noise std as a fraction of the input's reference intensity (see referenceIntensity). */
  noiseStd: number;
}

export const RANDOM_DEFAULTS: RandomOptions = { noiseStd: 0.05 };

/** Returns the pipeline that adds one subject's noise, of std `noiseStd` in image units. */
export function randomSubjectSteps(subject: SubjectRecord, noiseStd: number): PreprocessStep[] {
  if (!(noiseStd >= 0) || !Number.isFinite(noiseStd)) {
    throw new UserError(`Noise std ${noiseStd} is invalid: expected a finite number >= 0.`);
  }
  return [
    { op: 'augment', options: { noise: { min: noiseStd, max: noiseStd } }, seed: subject.seed },
  ];
}
