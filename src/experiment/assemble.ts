// Voxel-wise outputs of patches or slices put back together on the grid of the image they were
// cut from. Each sample's place comes from its affine, so no extraction settings are needed.
// Voxels covered by several samples get the mean of their outputs, and voxels covered by none
// get 0.

import type { Volume } from '../data/volume.js';
import { UserError } from '../errors.js';
import type { InferenceVolume } from '../inference/common.js';
import type { PreprocessedImage } from './preprocessing.js';

/** Tolerance on voxel positions and affine entries, in voxels and millimetres. */
const TOLERANCE = 1e-3;

/** Returns the first voxel of `sample` in the grid of `image`; throws if it is not on it. */
export function samplePlacement(image: Volume, sample: Volume): [number, number, number] {
  const sameAxes = [0, 1, 2].every((row) =>
    [0, 1, 2].every(
      (column) =>
        Math.abs(image.affine[4 * row + column]! - sample.affine[4 * row + column]!) <= TOLERANCE,
    ),
  );
  const position = image.voxelFromWorld(...sample.worldFromVoxel(0, 0, 0));
  const start = position.map(Math.round) as [number, number, number];
  const onGrid = position.every((value, axis) => Math.abs(value - start[axis]!) <= TOLERANCE);
  if (sameAxes && onGrid) return start;
  throw new UserError(
    `A sample of ${image.header.source || 'the image'} is not on the image's voxel grid (its ` +
      'sample transforms resampled it), so its output cannot be put back into the image.',
  );
}

/**
 * Returns the outputs of `preprocessed`'s samples (`[C, ...]` each, in sample order) as one
 * `[C, D, H, W]` output on the grid of `preprocessed.volume`.
 */
export function assembleSamples(
  outputs: readonly InferenceVolume[],
  preprocessed: PreprocessedImage,
): InferenceVolume {
  const image = preprocessed.volume;
  const [nx, ny, nz] = image.spatialShape;
  const voxels = nx * ny * nz;
  const boxes = preprocessed.samples.map((sample) => sample.volume.spatialShape);
  const boxVoxels = boxes[0]!.reduce((total, size) => total * size, 1);
  const channels = outputs[0]!.data.length / boxVoxels;
  const sums = new Float64Array(channels * voxels);
  const counts = new Float64Array(voxels);

  preprocessed.samples.forEach((sample, index) => {
    const [bx, by, bz] = boxes[index]!;
    const [sx, sy, sz] = samplePlacement(image, sample.volume);
    const data = outputs[index]!.data;
    for (let k = 0; k < bz; k++) {
      for (let j = 0; j < by; j++) {
        for (let i = 0; i < bx; i++) {
          const target = sx + i + nx * (sy + j + ny * (sz + k));
          const source = i + bx * (j + by * k);
          counts[target]! += 1;
          for (let channel = 0; channel < channels; channel++) {
            sums[channel * voxels + target]! += data[channel * boxVoxels + source]!;
          }
        }
      }
    }
  });

  const assembled = new Float32Array(channels * voxels);
  for (let index = 0; index < assembled.length; index++) {
    const count = counts[index % voxels]!;
    assembled[index] = count > 0 ? sums[index]! / count : 0;
  }
  return { data: assembled, shape: [channels, nz, ny, nx] };
}
