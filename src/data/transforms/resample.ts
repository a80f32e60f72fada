// Resampling through the affines: onto a target voxel spacing, or onto a reference grid.
// Trilinear interpolation for images, nearest neighbour for labels; samples that fall outside
// the input get `fill` (default 0), as scipy.ndimage's mode 'constant' does.

import { UserError } from '../../errors.js';
import type { Volume } from '../volume.js';
import type { Dims, ImageBackend, Interpolation } from '../wasm/backend.js';
import { checkOutputSize, mapFrames, perAxis, voxelMap, volumeName } from './grid.js';

export interface ResampleOptions {
  /** 'linear' (trilinear, default) for images, 'nearest' for label volumes. */
  interpolation?: Interpolation;
  /** Value of output voxels that map outside the input; default 0. */
  fill?: number;
}

/**
 * Resamples onto voxels of `spacing` mm (one number or one per voxel axis). The output's first
 * voxel centre is the input's, its axes keep their directions, and it has as many voxels as fit
 * inside the input's field of view: floor((n - 1) * oldSpacing / newSpacing) + 1 per axis.
 */
export function resampleToSpacing(
  backend: ImageBackend,
  volume: Volume,
  spacing: number | readonly number[],
  options: ResampleOptions = {},
): Volume {
  const target = perAxis(spacing, 'spacing');
  if (!target.every((value) => value > 0)) {
    throw new UserError(`spacing [${target.join(', ')}] is invalid: every value must be > 0 mm.`);
  }
  const current = volume.spacing;
  const dims = volume.spatialShape;
  const outDims = dims.map((n, axis) => {
    const ratio = current[axis]! / target[axis]!;
    // The small epsilon keeps an exact fit (180 * 1 / 2 = 90) from rounding down.
    return Math.floor((n - 1) * ratio + 1e-9) + 1;
  }) as unknown as Dims;
  const advice = `choose a larger spacing than [${target.join(', ')}] mm`;
  checkOutputSize('resampleToSpacing', volume, outDims, advice);
  const affine = new Float64Array(volume.affine);
  for (let column = 0; column < 3; column++) {
    const scale = target[column]! / current[column]!;
    for (let row = 0; row < 3; row++) affine[4 * row + column]! *= scale;
  }
  return resampleGrid('resampleToSpacing', backend, volume, outDims, affine, options);
}

/** Resamples `volume` onto the grid (shape and affine) of `reference`. */
export function resampleToReference(
  backend: ImageBackend,
  volume: Volume,
  reference: Volume,
  options: ResampleOptions = {},
): Volume {
  const outDims = reference.spatialShape;
  const advice = 'resample onto a coarser reference grid';
  checkOutputSize('resampleToReference', volume, outDims, advice);
  return resampleGrid('resampleToReference', backend, volume, outDims, reference.affine, options);
}

/** Resamples onto the grid of `outDims` voxels placed by `affine`. */
export function resampleOnto(
  backend: ImageBackend,
  volume: Volume,
  outDims: Dims,
  affine: Float64Array,
  options: ResampleOptions = {},
): Volume {
  return resampleGrid('resampleOnto', backend, volume, outDims, affine, options);
}

function resampleGrid(
  operation: string,
  backend: ImageBackend,
  volume: Volume,
  outDims: Dims,
  affine: Float64Array,
  options: ResampleOptions,
): Volume {
  const interpolation = options.interpolation ?? 'linear';
  if (interpolation !== 'linear' && interpolation !== 'nearest') {
    throw new UserError(
      `Interpolation '${String(interpolation)}' for ${volumeName(volume)} is invalid: ` +
        "expected 'linear' or 'nearest'.",
    );
  }
  const matrix = voxelMap(volume.affine, affine);
  const dims = volume.spatialShape;
  const fill = options.fill ?? 0;
  return mapFrames(operation, volume, outDims, new Float64Array(affine), (frame) =>
    backend.resample(frame, dims, outDims, matrix, interpolation, fill),
  );
}
