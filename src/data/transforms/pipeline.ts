// A preprocessing pipeline as plain data (structured-clone safe), so the same description runs
// in the calling thread or in a worker of src/data/wasm/pool.ts.

import { UserError } from '../../errors.js';
import type { Volume } from '../volume.js';
import type { ImageBackend, Interpolation } from '../wasm/backend.js';
import { randomAugment, type AugmentOptions } from './augment.js';
import { cropOrPad } from './crop.js';
import { clipPercentiles, minMaxScale, zScore } from './intensity.js';
import { reorient } from './reorient.js';
import { resampleToSpacing } from './resample.js';
import { gaussianSmooth } from './smooth.js';

/**
 * One step of a pipeline; `op` names the transform, the other fields are its options. An
 * 'augment' step draws the same parameters for every volume given the same seed, so a caller
 * that wants each sample augmented differently gives each task its own seed.
 */
export type PreprocessStep =
  | { op: 'reorient'; target?: string }
  | { op: 'resample'; spacing: number | number[]; interpolation?: Interpolation }
  | { op: 'cropOrPad'; shape: number[]; fill?: number }
  | { op: 'zScore'; constant?: 'error' | 'zero' }
  | { op: 'minMax'; constant?: 'error' | 'zero' }
  | { op: 'clipPercentiles'; lower?: number; upper?: number }
  | { op: 'smooth'; sigmaMm: number | number[] }
  | { op: 'augment'; options: AugmentOptions; seed: number };

const STEP_NAMES = [
  'reorient',
  'resample',
  'cropOrPad',
  'zScore',
  'minMax',
  'clipPercentiles',
  'smooth',
  'augment',
];

/** Runs `steps` in order on `volume`. */
export function runPipeline(
  backend: ImageBackend,
  volume: Volume,
  steps: readonly PreprocessStep[],
): Volume {
  return steps.reduce((current, step) => runStep(backend, current, step), volume);
}

function runStep(backend: ImageBackend, volume: Volume, step: PreprocessStep): Volume {
  switch (step.op) {
    case 'reorient':
      return reorient(backend, volume, step.target);
    case 'resample':
      return resampleToSpacing(backend, volume, step.spacing, {
        interpolation: step.interpolation,
      });
    case 'cropOrPad':
      return cropOrPad(backend, volume, step.shape, step.fill);
    case 'zScore':
      return zScore(backend, volume, { constant: step.constant });
    case 'minMax':
      return minMaxScale(backend, volume, { constant: step.constant });
    case 'clipPercentiles':
      return clipPercentiles(backend, volume, { lower: step.lower, upper: step.upper });
    case 'smooth':
      return gaussianSmooth(backend, volume, step.sigmaMm);
    case 'augment':
      return randomAugment(backend, volume, step.options, step.seed).volume;
    default:
      throw new UserError(
        `Preprocessing step '${String((step as { op: unknown }).op)}' is unknown; expected one ` +
          `of ${STEP_NAMES.join(', ')}.`,
      );
  }
}
