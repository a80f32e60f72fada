// Crop or pad to a shape: centred on the volume, or around the bounding box of a mask with a
// margin. Voxels added by padding get `fill`; the affine moves so that voxels keep their
// world positions.

import { UserError } from '../../errors.js';
import type { Volume } from '../volume.js';
import type { Dims, ImageBackend } from '../wasm/backend.js';
import {
  checkDims,
  checkOutputSize,
  checkSameGrid,
  mapFrames,
  perAxis,
  translateAffine,
  volumeName,
} from './grid.js';

/**
 * Returns the first input voxel of a centred box of `outDims`. It is floor((n - o) / 2) when
 * cropping and -floor((o - n) / 2) when padding, so in both cases an odd difference puts the
 * extra voxel at the end.
 */
export function centredStart(dims: Dims, outDims: Dims): Dims {
  return dims.map((n, axis) => {
    const o = outDims[axis]!;
    return n >= o ? Math.floor((n - o) / 2) : -Math.floor((o - n) / 2);
  }) as unknown as Dims;
}

/** Crops or pads `volume` to `shape` ([x, y, z]) around its centre. */
export function cropOrPad(
  backend: ImageBackend,
  volume: Volume,
  shape: readonly number[],
  fill = 0,
): Volume {
  const outDims = checkDims(shape, 'Crop shape');
  checkOutputSize('cropOrPad', volume, outDims, 'choose a smaller shape');
  const start = centredStart(volume.spatialShape, outDims);
  return cutBox('cropOrPad', backend, volume, start, outDims, fill);
}

/**
 * Crops `volume` to the bounding box of the non-zero voxels of `mask` (on the same grid),
 * grown by `margin` voxels on each side. Parts of the grown box outside the volume get `fill`.
 */
export function cropToMask(
  backend: ImageBackend,
  volume: Volume,
  mask: Volume,
  margin: number | readonly number[] = 0,
  fill = 0,
): Volume {
  checkSameGrid(volume, mask, 'mask');
  const margins = perAxis(margin, 'margin');
  if (!margins.every((value) => Number.isInteger(value) && value >= 0)) {
    throw new UserError(`margin [${margins.join(', ')}] is invalid: expected integers >= 0.`);
  }
  const box = backend.maskBoundingBox(mask.data.subarray(0, mask.frameSize), mask.spatialShape);
  if (box === null) {
    throw new UserError(
      `The mask ${volumeName(mask)} has no non-zero voxel, so ${volumeName(volume)} cannot be ` +
        'cropped around it.',
    );
  }
  const start = box.min.map((low, axis) => low - margins[axis]!) as unknown as Dims;
  const outDims = box.max.map(
    (high, axis) => high - box.min[axis]! + 1 + 2 * margins[axis]!,
  ) as unknown as Dims;
  checkOutputSize('cropToMask', volume, outDims, 'choose a smaller margin');
  return cutBox('cropToMask', backend, volume, start, outDims, fill);
}

/** Returns the box of `outDims` whose first voxel is input voxel `start` (may be negative). */
export function cropBox(
  backend: ImageBackend,
  volume: Volume,
  start: Dims,
  outDims: Dims,
  fill = 0,
): Volume {
  return cutBox('cropBox', backend, volume, start, outDims, fill);
}

function cutBox(
  operation: string,
  backend: ImageBackend,
  volume: Volume,
  start: Dims,
  outDims: Dims,
  fill: number,
): Volume {
  const dims = volume.spatialShape;
  const affine = translateAffine(volume.affine, start);
  return mapFrames(operation, volume, outDims, affine, (frame) =>
    backend.cropPad(frame, dims, outDims, start, fill),
  );
}
