// In-memory batch sources of small patches cut from the Colin27 T1 (ch2bet.nii.gz), for model
// and trainer tests: a classification label (patch mean above the median of patch means) and
// the patch itself for reconstruction.

import type { Batch, BatchSource } from '../../src/data/batch.js';
import { readNifti } from '../../src/data/nifti/node.js';

/** Networks whose ops all have GPU kernels: a CNN classifier and an autoencoder. */
export const CNN = {
  name: 'CNN',
  inShape: [1, 6, 6, 6],
  numOutputs: 2,
  convArgs: { channels: [4], norm: null },
};
export const AUTOENCODER = {
  name: 'AutoEncoder',
  inShape: [1, 8, 8, 8],
  latentSize: 8,
  convArgs: { channels: [4], norm: null },
};

export const COLIN = '/usr/share/mricron/templates/ch2bet.nii.gz';

export interface Patches {
  images: Float32Array[];
  labels: number[];
  size: number;
}

/**
 * Cuts `count` cubes of `size` voxels at evenly spread nodes of a grid over the central 40% of
 * the volume along each axis, which lies inside the brain, so no patch is empty.
 */
export async function readPatches(count: number, size: number): Promise<Patches> {
  const volume = await readNifti(COLIN);
  const [nx, ny, nz] = volume.spatialShape as [number, number, number];
  const perAxis = Math.ceil(Math.cbrt(count)) + 1;
  const starts = (length: number) =>
    Array.from({ length: perAxis }, (_, i) =>
      Math.floor(0.3 * length + ((0.4 * length - size) * i) / (perAxis - 1)),
    );
  const nodes = starts(nz).flatMap((z) =>
    starts(ny).flatMap((y) => starts(nx).map((x) => [x, y, z] as const)),
  );
  const images: Float32Array[] = [];
  for (let index = 0; index < count; index++) {
    const [x, y, z] = nodes[Math.floor((index * nodes.length) / count)]!;
    const patch = new Float32Array(size ** 3);
    for (let k = 0; k < size; k++) {
      for (let j = 0; j < size; j++) {
        for (let i = 0; i < size; i++) {
          const voxel = x + i + nx * (y + j + ny * (z + k));
          patch[i + size * (j + size * k)] = volume.data[voxel]!;
        }
      }
    }
    images.push(patch);
  }
  // Standardised over all patches, so class differences are not small offsets on a large mean.
  standardise(images);
  const means = images.map((patch) => patch.reduce((a, b) => a + b, 0) / patch.length);
  const median = [...means].sort((a, b) => a - b)[Math.floor(means.length / 2)]!;
  return { images, labels: means.map((mean) => (mean > median ? 1 : 0)), size };
}

function standardise(images: Float32Array[]): void {
  const count = images.length * images[0]!.length;
  let sum = 0;
  let squares = 0;
  for (const image of images) {
    for (const value of image) {
      sum += value;
      squares += value * value;
    }
  }
  const mean = sum / count;
  const std = Math.sqrt(Math.max(squares / count - mean * mean, 1e-12));
  for (const image of images) {
    for (let i = 0; i < image.length; i++) image[i] = (image[i]! - mean) / std;
  }
}

/** Serves `patches` in batches; shuffling is a permutation seeded by `seed` and the epoch. */
export function patchSource(patches: Patches, batchSize: number, seed = 1): BatchSource {
  const { images, labels, size } = patches;
  const length = images.length;
  return {
    batchSize,
    length,
    async *batches(epoch: number, shuffle: boolean): AsyncIterable<Batch> {
      const order = Array.from({ length }, (_, i) => i);
      if (shuffle) {
        let state = (seed * 7919 + epoch * 104729) >>> 0;
        for (let i = length - 1; i > 0; i--) {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          const j = state % (i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      for (let start = 0; start < length; start += batchSize) {
        const rows = order.slice(start, start + batchSize);
        const image = new Float32Array(rows.length * size ** 3);
        rows.forEach((row, r) => image.set(images[row]!, r * size ** 3));
        yield {
          fields: { image, label: Int32Array.from(rows.map((row) => labels[row]!)) },
          shapes: { image: [rows.length, 1, size, size, size], label: [rows.length] },
          size: rows.length,
          ids: rows.map((row) => ({ participant_id: `sub-${row}`, session_id: 'ses-M000' })),
        };
      }
    },
  };
}
