// Shared pieces of the Inferers: the forward function they call, the volume they take and
// return, argument checks, and batched calls of a fixed batch size.

import { UserError } from '../errors.js';

/**
 * A network's forward pass over one batch of a fixed shape: `[batchSize, ...sampleShape]`
 * values in, `[batchSize, ...outputShape]` values out, both row-major. A compiled program or a
 * CPU function in tests fits.
 */
export type ForwardFunction = (batch: Float32Array) => Promise<Float32Array>;

/** One channels-first tensor without a batch axis: `[C, D, H, W]`, or `[C, H, W]` in 2D. */
export interface InferenceVolume {
  data: Float32Array;
  shape: readonly number[];
}

export function product(values: readonly number[]): number {
  return values.reduce((total, value) => total * value, 1);
}

export function checkBatchSize(batchSize: number): void {
  if (Number.isInteger(batchSize) && batchSize >= 1) return;
  throw new UserError(`Inferer batchSize ${batchSize} is invalid: expected an integer >= 1.`);
}

/** Checks a `[C, D, H, W]` volume whose data length matches its shape. */
export function checkVolume(volume: InferenceVolume, spatialDims: number): void {
  const shape = volume.shape;
  const valid =
    shape.length === spatialDims + 1 && shape.every((size) => Number.isInteger(size) && size >= 1);
  if (!valid) {
    throw new UserError(
      `Inferer input shape [${shape.join(', ')}] is invalid: expected ${spatialDims + 1} ` +
        `positive sizes, channels first.`,
    );
  }
  if (volume.data.length !== product(shape)) {
    throw new UserError(
      `Inferer input has ${volume.data.length} values but its shape [${shape.join(', ')}] ` +
        `needs ${product(shape)}.`,
    );
  }
}

/**
 * Runs `forward` over `count` samples of `sampleSize` values in batches of `batchSize`,
 * zero-padding the last batch. `fill(batch, first, size)` writes samples first..first+size-1
 * and `take(output, first, size, outputSize)` receives each batch's output for those samples.
 */
export async function runBatches(
  forward: ForwardFunction,
  options: { count: number; batchSize: number; sampleSize: number },
  fill: (batch: Float32Array, first: number, size: number) => void,
  take: (output: Float32Array, first: number, size: number, outputSize: number) => void,
): Promise<void> {
  const { count, batchSize, sampleSize } = options;
  const batch = new Float32Array(batchSize * sampleSize);
  for (let first = 0; first < count; first += batchSize) {
    const size = Math.min(batchSize, count - first);
    batch.fill(0);
    fill(batch, first, size);
    const output = await forward(batch);
    if (output.length === 0 || output.length % batchSize !== 0) {
      throw new UserError(
        `The forward function returned ${output.length} values for a batch of ${batchSize}; ` +
          'expected a positive multiple of the batch size.',
      );
    }
    take(output, first, size, output.length / batchSize);
  }
}

/** Returns the output channels of a dense output of `outputSize` values per sample. */
export function outputChannels(outputSize: number, voxels: number, what: string): number {
  if (outputSize % voxels === 0) return outputSize / voxels;
  throw new UserError(
    `The forward function returned ${outputSize} values per ${what} of ${voxels} voxels; ` +
      'a dense output needs a whole number of channels per voxel.',
  );
}
