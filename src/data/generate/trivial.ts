// The 'trivial' dataset, after ClinicaDL's `generate trivial`: CN subjects are the input T1
// image, AD subjects the same image with atrophy (intensity lowered by a percentage, with a
// smooth border) in chosen atlas regions. Each subject then gets its own small random affine
// (rotation, scaling, translation), a smooth intensity change (a first-order bias field: a
// global scale times a linear gradient) and Gaussian noise. The two classes differ only by the
// atrophy, so a classifier that learns them has found the regions.
//
// Every per-subject operation is local or pointwise (no image-wide statistic), so an AD subject
// differs from the CN subject of the same seed only near the atrophied regions.

import { UserError } from '../../errors.js';
import { atrophy } from '../transforms/atrophy.js';
import type { AugmentOptions } from '../transforms/augment.js';
import type { PreprocessStep } from '../transforms/pipeline.js';
import type { Volume } from '../volume.js';
import type { ImageBackend } from '../wasm/backend.js';
import { checkRegionsPresent, type AtlasLabel } from './atlas.js';
import { referenceIntensity } from './input.js';
import type { SubjectRecord } from './subjects.js';

export interface TrivialOptions {
  /** Intensity removed at the core of the regions in AD subjects, in percent; ClinicaDL: 60. */
  atrophyPercent: number;
  /** Sigma of the Gaussian that smooths the atrophy's border, in mm. */
  atrophySigmaMm: number;
  /** Largest rotation about each world axis, in degrees. */
  rotationDegrees: number;
  /** Largest scaling along each axis, as a fraction: factors are drawn in [1 - s, 1 + s]. */
  scaling: number;
  /** Largest translation along each axis, in mm. */
  translationMm: number;
  /** Largest bias-field coefficient: the intensity scale and each gradient reach exp(+-c). */
  intensityChange: number;
  /** Largest noise std as a fraction of the reference intensity; drawn in [max / 2, max]. */
  noiseStd: number;
}

export const TRIVIAL_DEFAULTS: TrivialOptions = {
  atrophyPercent: 60,
  atrophySigmaMm: 2,
  rotationDegrees: 3,
  scaling: 0.03,
  translationMm: 3,
  intensityChange: 0.1,
  noiseStd: 0.03,
};

/** The two class templates of a trivial dataset, on the output grid. */
export interface TrivialTemplates {
  CN: Volume;
  AD: Volume;
  /** Noise std in image units: options.noiseStd times the reference intensity. */
  noiseStdMax: number;
  referenceIntensity: number;
}

/** Checks the ranges of the options, naming the first invalid one. */
export function checkTrivialOptions(options: TrivialOptions): void {
  const rules: [keyof TrivialOptions, number, number][] = [
    ['atrophyPercent', 0, 100],
    ['atrophySigmaMm', 0, 50],
    ['rotationDegrees', 0, 45],
    ['scaling', 0, 0.5],
    ['translationMm', 0, 50],
    ['intensityChange', 0, 1],
    ['noiseStd', 0, 10],
  ];
  for (const [name, min, max] of rules) {
    const value = options[name];
    if (Number.isFinite(value) && value >= min && value <= max) continue;
    throw new UserError(`${name} ${value} is invalid: expected a number in [${min}, ${max}].`);
  }
}

/**
 * Makes the CN template (the image) and the AD template (the image with atrophy in `regions`).
 * `atlas` must be on the image's grid (see atlasOnGrid) and contain every region.
 */
export function trivialTemplates(
  backend: ImageBackend,
  image: Volume,
  atlas: Volume,
  regions: readonly AtlasLabel[],
  options: TrivialOptions,
): TrivialTemplates {
  checkTrivialOptions(options);
  checkRegionsPresent(backend, atlas, regions, atlas.header.source || 'in memory');
  const AD = atrophy(backend, image, atlas, {
    labels: regions.map((region) => region.value),
    factor: options.atrophyPercent / 100,
    sigmaMm: options.atrophySigmaMm,
  });
  const reference = referenceIntensity(backend, image);
  return {
    CN: image,
    AD,
    noiseStdMax: options.noiseStd * reference,
    referenceIntensity: reference,
  };
}

/** Returns the augmentation ranges of every subject (see the file header). */
export function trivialAugmentation(options: TrivialOptions, noiseStdMax: number): AugmentOptions {
  return {
    affine: {
      degrees: options.rotationDegrees,
      scale: options.scaling,
      translationMm: options.translationMm,
    },
    biasField: { order: 1, coefficient: options.intensityChange },
    noise: { min: noiseStdMax / 2, max: noiseStdMax },
  };
}

/** Returns the pipeline that makes one subject's image from its class template. */
export function trivialSubjectSteps(
  subject: SubjectRecord,
  augmentation: AugmentOptions,
): PreprocessStep[] {
  return [{ op: 'augment', options: augmentation, seed: subject.seed }];
}
