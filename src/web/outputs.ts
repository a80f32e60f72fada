// Turning a network's output into what the page shows: class probabilities, and overlay
// volumes on the input's grid (labels by arg max over channels, a reconstruction's first
// channel, a saliency map). Pure functions, shared by the worker and the tests.

import { encodeNifti } from '../data/nifti/encode.js';
import { Volume } from '../data/volume.js';
import { UserError } from '../errors.js';
import type { ViewerImage } from './protocol.js';

/** Returns the softmax of class scores; subtracting the maximum keeps exp from overflowing. */
export function softmax(scores: ArrayLike<number>): number[] {
  const values = Array.from(scores);
  const max = Math.max(...values);
  const exps = values.map((value) => Math.exp(value - max));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return exps.map((value) => value / total);
}

/** Index of the largest value; the first one on ties. */
export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Returns the label of each voxel of a `[C, ...spatial]` output of `voxels` voxels per
 * channel: the channel with the largest score. One channel is read as a foreground
 * probability or logit, so a voxel is labelled 1 where it is above `threshold`.
 */
export function labelMap(output: Float32Array, voxels: number, threshold = 0.5): Float32Array {
  const channels = output.length / voxels;
  if (!Number.isInteger(channels) || channels < 1) {
    throw new UserError(
      `The output has ${output.length} values, not a whole number of channels of ${voxels} voxels.`,
    );
  }
  const labels = new Float32Array(voxels);
  if (channels === 1) {
    for (let v = 0; v < voxels; v++) labels[v] = output[v]! > threshold ? 1 : 0;
    return labels;
  }
  for (let v = 0; v < voxels; v++) {
    let best = 0;
    for (let c = 1; c < channels; c++) {
      if (output[c * voxels + v]! > output[best * voxels + v]!) best = c;
    }
    labels[v] = best;
  }
  return labels;
}

/**
 * Returns the value below which a fraction `q` (0 to 1) of `values` lies: the nearest-rank
 * percentile of the sorted values.
 */
export function percentile(values: Float32Array, q: number): number {
  if (values.length === 0) throw new UserError('A percentile needs at least one value.');
  const sorted = Float32Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Returns `data` (one value per voxel of `grid`) as a NIfTI-1 image on the grid of `grid`. */
export function viewerImage(grid: Volume, data: Float32Array, name: string): ViewerImage {
  const spatial = grid.shape.slice(0, 3);
  const volume = new Volume(data, spatial, grid.affine);
  return { name, bytes: encodeNifti(volume, { datatype: 'float32' }) };
}
