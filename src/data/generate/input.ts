// The input image of the 'trivial' and 'random' generators, brought to the output grid once
// before any subject is made: optionally resampled to a coarser voxel size, then cropped
// around the brain. An atlas follows the image onto that grid with nearest-neighbour
// resampling, so its labels stay labels.

import { UserError } from '../../errors.js';
import { cropBox, cropToMask } from '../transforms/crop.js';
import { volumeName } from '../transforms/grid.js';
import { resampleToReference, resampleToSpacing } from '../transforms/resample.js';
import type { Volume } from '../volume.js';
import type { Dims, ImageBackend } from '../wasm/backend.js';

/** Margin in voxels kept around the brain's bounding box by `crop: 'brain'`. */
export const BRAIN_MARGIN_VOXELS = 2;

export interface GridOptions {
  /** Isotropic voxel size of the output in mm; default: the input's own grid. */
  resampleMm?: number;
  /**
   * 'brain': the bounding box of the non-zero voxels plus a margin. [x, y, z]: a box of that
   * many voxels centred on the brain's bounding box, padded with zeros where it leaves the
   * image. Default: no crop.
   */
  crop?: 'brain' | readonly [number, number, number];
}

/** Returns the first 3D frame of `volume`; throws for a volume with several frames. */
export function singleFrame(volume: Volume, role: string): Volume {
  if (volume.frameCount === 1) return volume;
  throw new UserError(
    `The ${role} ${volumeName(volume)} has ${volume.frameCount} frames (shape ` +
      `[${volume.shape.join(', ')}]); the generator needs one 3D image.`,
  );
}

/** Resamples and crops the input image as `options` ask (see GridOptions). */
export function prepareImage(backend: ImageBackend, image: Volume, options: GridOptions): Volume {
  let result = singleFrame(image, 'input image');
  const name = volumeName(result);
  if (!(backend.statistics(result.data).max > 0)) {
    throw new UserError(
      `The input image ${name} has no voxel above 0; the generators need a T1 image with the ` +
        'brain above a background of 0.',
    );
  }
  if (options.resampleMm !== undefined) {
    result = resampleToSpacing(backend, result, options.resampleMm, { interpolation: 'linear' });
  }
  if (options.crop === 'brain') {
    result = cropToMask(backend, result, result, BRAIN_MARGIN_VOXELS);
  } else if (options.crop !== undefined) {
    result = cropAroundBrain(backend, result, options.crop);
  }
  result.header.source = name;
  return result;
}

function cropAroundBrain(backend: ImageBackend, image: Volume, shape: Dims): Volume {
  const box = backend.maskBoundingBox(image.data, image.spatialShape);
  if (box === null) throw new UserError(`The image ${volumeName(image)} has no non-zero voxel.`);
  const start = box.min.map((low, axis) => {
    const centre = (low + box.max[axis]!) / 2;
    return Math.round(centre - (shape[axis]! - 1) / 2);
  }) as unknown as Dims;
  return cropBox(backend, image, start, shape, 0);
}

/** Resamples a label atlas onto the grid of `image` (nearest neighbour); see the file header. */
export function atlasOnGrid(backend: ImageBackend, atlas: Volume, image: Volume): Volume {
  const labels = singleFrame(atlas, 'atlas');
  const result = resampleToReference(backend, labels, image, { interpolation: 'nearest' });
  result.header.source = volumeName(labels);
  return result;
}

/**
 * Returns the reference intensity of an image: the 99th percentile of its non-zero voxels. The
 * generators' noise levels are fractions of it, so they suit any input's intensity scale.
 */
export function referenceIntensity(backend: ImageBackend, image: Volume): number {
  const [value] = backend.quantiles(image.data, [0.99], image.data);
  if (!(value! > 0)) {
    throw new UserError(`The image ${volumeName(image)} has no positive voxel to scale noise by.`);
  }
  return value!;
}
