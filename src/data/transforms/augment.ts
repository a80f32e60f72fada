// Seeded data augmentation. The operations (flip, noise, gamma, bias field, affine) take
// explicit parameters. randomAugment draws those parameters from a seed with the xoshiro128**
// generator of random.ts, so one seed gives the same output on every run and in every worker.
// Spatial augmentations run first, then the intensity ones.

import { UserError } from '../../errors.js';
import { multiplyAffines, invertAffine, type Volume } from '../volume.js';
import type { ImageBackend, Interpolation } from '../wasm/backend.js';
import { checkAugmentOptions } from './augment-options.js';
import { mapFrames, perAxis } from './grid.js';
import { Xoshiro128 } from './random.js';

/** Flips the voxel data along the chosen axes; the affine is kept, so the anatomy moves. */
export function flipAxes(backend: ImageBackend, volume: Volume, axes: readonly boolean[]): Volume {
  const dims = volume.spatialShape;
  return mapFrames('flipAxes', volume, dims, volume.affine, (frame) =>
    backend.permuteFlip(frame, dims, [0, 1, 2], axes),
  );
}

/** Adds Gaussian noise of standard deviation `std`, drawn from the stream of `seed`. */
export function addNoise(backend: ImageBackend, volume: Volume, std: number, seed: number): Volume {
  if (!(std >= 0)) throw new UserError(`Noise std ${std} is invalid: expected a number >= 0.`);
  let frameSeed = seed >>> 0;
  return mapFrames('addNoise', volume, volume.spatialShape, volume.affine, (frame) =>
    backend.addGaussianNoise(frame, std, frameSeed++),
  );
}

/** Applies x -> min + range * ((x - min) / range)^gamma over each frame's intensity range. */
export function adjustGamma(backend: ImageBackend, volume: Volume, gamma: number): Volume {
  if (!(gamma > 0)) throw new UserError(`Gamma ${gamma} is invalid: expected a number > 0.`);
  return mapFrames('adjustGamma', volume, volume.spatialShape, volume.affine, (frame) => {
    const { min, max } = backend.statistics(frame);
    if (!(max > min)) return frame.slice();
    return backend.gammaMap(frame, min, max - min, gamma);
  });
}

/** Returns the number of coefficients of a bias field of polynomial `order`. */
export function biasFieldTermCount(order: number): number {
  return ((order + 1) * (order + 2) * (order + 3)) / 6;
}

/**
 * Multiplies by exp(P(x, y, z)), P the polynomial of `order` over coordinates in [-1, 1] with
 * `coefficients` for x^i y^j z^k listed with i outermost, then j, then k, over i + j + k <= order.
 */
export function applyBiasField(
  backend: ImageBackend,
  volume: Volume,
  order: number,
  coefficients: Float64Array,
): Volume {
  if (!Number.isInteger(order) || order < 0 || order > 6) {
    throw new UserError(`Bias field order ${order} is invalid: expected an integer in [0, 6].`);
  }
  if (coefficients.length !== biasFieldTermCount(order)) {
    throw new UserError(
      `A bias field of order ${order} needs ${biasFieldTermCount(order)} coefficients; got ` +
        `${coefficients.length}.`,
    );
  }
  const dims = volume.spatialShape;
  return mapFrames('applyBiasField', volume, dims, volume.affine, (frame) =>
    backend.multiplyBiasField(frame, dims, order, coefficients),
  );
}

/** A small affine transform about the volume's centre, in world space. */
export interface AffineParameters {
  /** Rotations about the world x, y and z axes in degrees, applied x first. */
  rotationDegrees: readonly number[];
  /** Scale factors along the world axes. */
  scale: readonly number[];
  /** Translation in mm. */
  translationMm: readonly number[];
}

/**
 * Resamples the volume on its own grid so that output point p shows input point
 * c + R S (p - c) + t, with c the world centre of the volume.
 */
export function transformAffine(
  backend: ImageBackend,
  volume: Volume,
  parameters: AffineParameters,
  interpolation: Interpolation = 'linear',
): Volume {
  const world = worldTransform(volume, parameters);
  const matrix = multiplyAffines(
    invertAffine(volume.affine),
    multiplyAffines(world, volume.affine),
  );
  const dims = volume.spatialShape;
  const voxelMap = matrix.slice(0, 12);
  return mapFrames('transformAffine', volume, dims, volume.affine, (frame) =>
    backend.resample(frame, dims, dims, voxelMap, interpolation, 0),
  );
}

function worldTransform(volume: Volume, parameters: AffineParameters): Float64Array {
  const [ax, ay, az] = perAxis(parameters.rotationDegrees, 'rotationDegrees').map(
    (degrees) => (degrees * Math.PI) / 180,
  ) as [number, number, number];
  const scale = perAxis(parameters.scale, 'scale');
  if (!scale.every((factor) => factor > 0)) {
    throw new UserError(`scale [${scale.join(', ')}] is invalid: every factor must be > 0.`);
  }
  const shift = perAxis(parameters.translationMm, 'translationMm');
  const rx = [1, 0, 0, 0, Math.cos(ax), -Math.sin(ax), 0, Math.sin(ax), Math.cos(ax)];
  const ry = [Math.cos(ay), 0, Math.sin(ay), 0, 1, 0, -Math.sin(ay), 0, Math.cos(ay)];
  const rz = [Math.cos(az), -Math.sin(az), 0, Math.sin(az), Math.cos(az), 0, 0, 0, 1];
  const rotation = multiply3(rz, multiply3(ry, rx));
  const dims = volume.spatialShape;
  const centre = volume.worldFromVoxel((dims[0] - 1) / 2, (dims[1] - 1) / 2, (dims[2] - 1) / 2);
  const out = new Float64Array(16);
  out[15] = 1;
  for (let row = 0; row < 3; row++) {
    let offset = centre[row]! + shift[row]!;
    for (let column = 0; column < 3; column++) {
      const entry = rotation[3 * row + column]! * scale[column]!;
      out[4 * row + column] = entry;
      offset -= entry * centre[column]!;
    }
    out[4 * row + 3] = offset;
  }
  return out;
}

function multiply3(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 3; column++) {
      let sum = 0;
      for (let k = 0; k < 3; k++) sum += a[3 * row + k]! * b[3 * k + column]!;
      out.push(sum);
    }
  }
  return out;
}

/** Ranges of randomAugment; an absent field turns that augmentation off. */
export interface AugmentOptions {
  /** Probability of flipping each axis listed in `axes` (default [0], x: left-right). */
  flip?: { probability: number; axes?: readonly number[] };
  /** Noise std drawn uniformly from [min, max], in intensity units. */
  noise?: { min: number; max: number };
  /** log(gamma) drawn uniformly from [-logRange, logRange]. */
  gamma?: { logRange: number };
  /** Coefficients drawn uniformly from [-coefficient, coefficient] for a field of `order`. */
  biasField?: { order: number; coefficient: number };
  /** Rotation in [-degrees, degrees], scale in [1 - scale, 1 + scale], shift in [-mm, mm]. */
  affine?: { degrees: number; scale: number; translationMm: number };
}

/** The parameters randomAugment drew, for logs and for reproducing one sample. */
export interface AppliedAugmentation {
  affine?: AffineParameters;
  flips?: boolean[];
  biasField?: { order: number; coefficients: number[] };
  gamma?: number;
  noise?: { std: number; seed: number };
}

/**
 * Draws augmentation parameters from `seed` and applies them; returns both. Throws a UserError
 * for an unknown, missing or invalid option field (see checkAugmentOptions).
 */
export function randomAugment(
  backend: ImageBackend,
  volume: Volume,
  options: AugmentOptions,
  seed: number,
): { volume: Volume; applied: AppliedAugmentation } {
  checkAugmentOptions(options);
  const random = new Xoshiro128(seed);
  const applied: AppliedAugmentation = {};
  let result = volume;
  if (options.affine) {
    const { degrees, scale, translationMm } = options.affine;
    const draw = (range: number, centre = 0) =>
      [0, 1, 2].map(() => random.uniform(centre - range, centre + range));
    applied.affine = {
      rotationDegrees: draw(degrees),
      scale: draw(scale, 1),
      translationMm: draw(translationMm),
    };
    result = transformAffine(backend, result, applied.affine);
  }
  if (options.flip) {
    const axes = options.flip.axes ?? [0];
    applied.flips = [0, 1, 2].map(
      (axis) => axes.includes(axis) && random.nextFloat() < options.flip!.probability,
    );
    if (applied.flips.some(Boolean)) result = flipAxes(backend, result, applied.flips);
  }
  if (options.biasField) {
    const { order, coefficient } = options.biasField;
    const coefficients = Array.from({ length: biasFieldTermCount(order) }, () =>
      random.uniform(-coefficient, coefficient),
    );
    applied.biasField = { order, coefficients };
    result = applyBiasField(backend, result, order, Float64Array.from(coefficients));
  }
  if (options.gamma) {
    applied.gamma = Math.exp(random.uniform(-options.gamma.logRange, options.gamma.logRange));
    result = adjustGamma(backend, result, applied.gamma);
  }
  if (options.noise) {
    applied.noise = {
      std: random.uniform(options.noise.min, options.noise.max),
      seed: random.nextU32(),
    };
    result = addNoise(backend, result, applied.noise.std, applied.noise.seed);
  }
  return { volume: result, applied };
}
