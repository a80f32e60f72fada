// Gaussian smoothing with a separable kernel. The sigma is in millimetres and becomes voxels
// through each axis's spacing. As in scipy.ndimage.gaussian_filter (default truncate = 4), the
// kernel has radius floor(4 * sigma + 0.5) voxels and the borders reflect.

import { UserError } from '../../errors.js';
import type { Volume } from '../volume.js';
import type { ImageBackend } from '../wasm/backend.js';
import { mapFrames, perAxis } from './grid.js';

const TRUNCATE = 4;

/** Returns the normalised 1D Gaussian of `sigma` voxels, or null when sigma is 0. */
export function gaussianWeights(sigma: number): Float32Array | null {
  if (sigma === 0) return null;
  const radius = Math.floor(TRUNCATE * sigma + 0.5);
  const weights = new Float64Array(2 * radius + 1);
  for (let k = -radius; k <= radius; k++) weights[k + radius] = Math.exp(-0.5 * (k / sigma) ** 2);
  const sum = weights.reduce((total, weight) => total + weight, 0);
  return Float32Array.from(weights, (weight) => weight / sum);
}

/** Smooths each frame with a Gaussian of `sigmaMm` (one value or one per voxel axis). */
export function gaussianSmooth(
  backend: ImageBackend,
  volume: Volume,
  sigmaMm: number | readonly number[],
): Volume {
  const sigmas = perAxis(sigmaMm, 'sigma');
  if (!sigmas.every((sigma) => sigma >= 0)) {
    throw new UserError(`sigma [${sigmas.join(', ')}] mm is invalid: every value must be >= 0.`);
  }
  const spacing = volume.spacing;
  const weights = sigmas.map((sigma, axis) => gaussianWeights(sigma / spacing[axis]!));
  const dims = volume.spatialShape;
  return mapFrames('gaussianSmooth', volume, dims, volume.affine, (frame) =>
    backend.separableConvolve(frame, dims, weights),
  );
}
