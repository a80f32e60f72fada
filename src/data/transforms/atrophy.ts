// The atrophy operator of the synthetic 'trivial' data: lowers the intensity of an image inside
// an atlas region with a smooth border. The region's binary mask is smoothed with a Gaussian
// of `sigmaMm`, and intensity *= 1 - factor * smoothedMask.

import { UserError } from '../../errors.js';
import type { Volume } from '../volume.js';
import type { ImageBackend } from '../wasm/backend.js';
import { checkSameGrid, mapFrames, volumeName } from './grid.js';
import { gaussianSmooth } from './smooth.js';

export interface AtrophyOptions {
  /** Atlas label values that make up the region. */
  labels: readonly number[];
  /** Fraction of intensity removed at the region's core, in [0, 1]. */
  factor: number;
  /** Sigma of the Gaussian that smooths the region's border, in mm; default 2. */
  sigmaMm?: number;
}

/** Returns `image` with the atlas region `labels` darkened by `factor` (see the file header). */
export function atrophy(
  backend: ImageBackend,
  image: Volume,
  atlas: Volume,
  options: AtrophyOptions,
): Volume {
  checkSameGrid(image, atlas, 'atlas');
  if (!(options.factor >= 0 && options.factor <= 1)) {
    throw new UserError(
      `Atrophy factor ${options.factor} is invalid: expected a number in [0, 1].`,
    );
  }
  if (options.labels.length === 0) {
    throw new UserError('Atrophy needs at least one atlas label for the region; got none.');
  }
  const labels = atlas.data.subarray(0, atlas.frameSize);
  const mask = atlas.withData(backend.labelMask(labels, options.labels), atlas.spatialShape);
  if (backend.statistics(mask.data).max === 0) {
    throw new UserError(
      `The atlas ${volumeName(atlas)} has no voxel with label(s) ${options.labels.join(', ')}; ` +
        'check the region labels against the atlas.',
    );
  }
  const weight = gaussianSmooth(backend, mask, options.sigmaMm ?? 2).data;
  return mapFrames('atrophy', image, image.spatialShape, image.affine, (frame) =>
    backend.attenuate(frame, weight, options.factor),
  );
}
