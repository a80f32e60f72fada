// Intensity normalisation: z-score inside a mask, min-max scaling, percentile clipping. Each
// 3D frame is normalised with its own statistics. A mask (non-zero = inside, on the image's
// grid) limits the voxels the statistics come from; every voxel is then transformed.
//
// Policy for bad input: NaN or infinite voxels are rejected, because they would make every
// statistic NaN. An image that is constant inside the mask has no defined z-score or min-max
// scale. By default that is an error naming the image. With `constant: 'zero'` the output is
// all zeros and a warning is logged.

import { UserError } from '../../errors.js';
import { createLogger } from '../../log.js';
import type { Volume } from '../volume.js';
import type { ImageBackend, IntensityStatistics } from '../wasm/backend.js';
import { checkSameGrid, mapFrames, volumeName } from './grid.js';

const log = createLogger('transforms');

export interface NormaliseOptions {
  /** Voxels used for the statistics: non-zero voxels of this volume (same grid). Default all. */
  mask?: Volume;
  /** Policy for an image constant inside the mask: 'error' (default) or 'zero'. */
  constant?: 'error' | 'zero';
}

/** Returns (x - mean) / std, with the mean and population std of the masked voxels. */
export function zScore(
  backend: ImageBackend,
  volume: Volume,
  options: NormaliseOptions = {},
): Volume {
  const mask = prepareMask(volume, options.mask);
  return mapFrames('zScore', volume, volume.spatialShape, volume.affine, (frame) =>
    backend.normalise(frame, mask, (statistics) => {
      checkStatistics(volume, statistics, options.mask);
      const { mean } = statistics;
      const std = Math.sqrt(statistics.variance);
      if (!(std > 1e-12 * Math.max(1, Math.abs(mean)))) {
        return handleConstant(volume, mean, 'z-score', options.constant);
      }
      return { offset: mean, scale: 1 / std };
    }),
  );
}

/** Returns (x - min) / (max - min), which maps the masked voxels onto [0, 1]. */
export function minMaxScale(
  backend: ImageBackend,
  volume: Volume,
  options: NormaliseOptions = {},
): Volume {
  const mask = prepareMask(volume, options.mask);
  return mapFrames('minMaxScale', volume, volume.spatialShape, volume.affine, (frame) =>
    backend.normalise(frame, mask, (statistics) => {
      checkStatistics(volume, statistics, options.mask);
      const { min, max } = statistics;
      if (!(max > min)) return handleConstant(volume, min, 'min-max scale', options.constant);
      return { offset: min, scale: 1 / (max - min) };
    }),
  );
}

export interface ClipOptions {
  /** Lower percentile in [0, 100]; default 0.5. */
  lower?: number;
  /** Upper percentile in [0, 100]; default 99.5. */
  upper?: number;
  /** Voxels the percentiles come from (non-zero voxels, same grid); default all. */
  mask?: Volume;
}

/** Clamps intensities to the [lower, upper] percentiles of the masked voxels. */
export function clipPercentiles(
  backend: ImageBackend,
  volume: Volume,
  options: ClipOptions = {},
): Volume {
  const lower = options.lower ?? 0.5;
  const upper = options.upper ?? 99.5;
  if (!(lower >= 0 && upper <= 100 && lower <= upper)) {
    throw new UserError(
      `Percentiles [${lower}, ${upper}] are invalid: expected 0 <= lower <= upper <= 100.`,
    );
  }
  const mask = prepareMask(volume, options.mask);
  const nonFinite = backend.countNonFinite(volume.data);
  if (nonFinite > 0) throw nonFiniteError(volume, nonFinite);
  return mapFrames('clipPercentiles', volume, volume.spatialShape, volume.affine, (frame) => {
    const [low, high] = backend.quantiles(frame, [lower / 100, upper / 100], mask);
    if (Number.isNaN(low)) checkCount(volume, 0, options.mask);
    return backend.clamp(frame, low!, high!);
  });
}

/** Returns the mask's first frame, after checking that it is on the image's grid. */
function prepareMask(volume: Volume, mask: Volume | undefined): Float32Array | undefined {
  if (mask === undefined) return undefined;
  checkSameGrid(volume, mask, 'mask');
  return mask.data.subarray(0, mask.frameSize);
}

/** Rejects NaN or infinite voxels and an empty mask. */
function checkStatistics(
  volume: Volume,
  statistics: IntensityStatistics,
  mask: Volume | undefined,
): void {
  if (statistics.nonFinite > 0) throw nonFiniteError(volume, statistics.nonFinite);
  checkCount(volume, statistics.count, mask);
}

function checkCount(volume: Volume, count: number, mask: Volume | undefined): void {
  if (count > 0) return;
  throw new UserError(
    `The mask ${mask ? volumeName(mask) : ''} selects no voxel of ${volumeName(volume)}, so ` +
      'no intensity statistics can be computed; check that the mask matches the image.',
  );
}

function nonFiniteError(volume: Volume, count: number): UserError {
  return new UserError(
    `${volumeName(volume)} has ${count} NaN or infinite voxel(s), which would make the ` +
      'intensity statistics NaN; replace them (for example by 0) before normalising.',
  );
}

/** Applies the constant-image policy: throws, or returns a scale of 0, which writes zeros. */
function handleConstant(
  volume: Volume,
  value: number,
  operation: string,
  policy: 'error' | 'zero' = 'error',
): { offset: number; scale: number } {
  const problem =
    `${volumeName(volume)} is constant (${value}) inside the mask, so its ${operation} ` +
    'is undefined';
  if (policy === 'zero') {
    log.warn(`${problem}; writing zeros.`);
    return { offset: value, scale: 0 };
  }
  throw new UserError(`${problem}; check the image or pass constant: 'zero' to get zeros.`);
}
