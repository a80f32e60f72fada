// Whole-image inference: each volume is one sample of the network, several volumes per batch.

import {
  checkBatchSize,
  checkVolume,
  product,
  runBatches,
  type ForwardFunction,
  type InferenceVolume,
} from './common.js';
import { UserError } from '../errors.js';

export interface WholeImageOptions {
  /** Samples per forward call; the network's static batch size. */
  batchSize: number;
}

/** Runs a network on whole volumes, batching them and padding the last batch with zeros. */
export class WholeImageInferer {
  readonly batchSize: number;

  constructor(options: WholeImageOptions) {
    checkBatchSize(options.batchSize);
    this.batchSize = options.batchSize;
  }

  /** Returns the class name and options; the constructor takes them back. */
  toJSON() {
    return { name: 'WholeImageInferer' as const, batchSize: this.batchSize };
  }

  /**
   * Returns each volume's output. An output with a whole number of values per input voxel gets
   * the input's spatial shape, `[outChannels, D, H, W]`; any other output (class scores) is flat.
   */
  async infer(
    forward: ForwardFunction,
    volumes: readonly InferenceVolume[],
  ): Promise<InferenceVolume[]> {
    if (volumes.length === 0) return [];
    const shape = volumes[0]!.shape;
    for (const [index, volume] of volumes.entries()) {
      checkVolume(volume, shape.length - 1);
      if (volume.shape.join() !== shape.join()) {
        throw new UserError(
          `Volume ${index} has shape [${volume.shape.join(', ')}] but volume 0 has ` +
            `[${shape.join(', ')}]; one network input takes one shape, so crop or pad them.`,
        );
      }
    }
    const sampleSize = product(shape);
    const results: InferenceVolume[] = [];
    await runBatches(
      forward,
      { count: volumes.length, batchSize: this.batchSize, sampleSize },
      (batch, first, size) => {
        for (let row = 0; row < size; row++)
          batch.set(volumes[first + row]!.data, row * sampleSize);
      },
      (output, _first, size, outputSize) => {
        const spatial = shape.slice(1);
        const voxels = product(spatial);
        const outShape =
          outputSize % voxels === 0 ? [outputSize / voxels, ...spatial] : [outputSize];
        for (let row = 0; row < size; row++) {
          const data = output.slice(row * outputSize, (row + 1) * outputSize);
          results.push({ data, shape: outShape });
        }
      },
    );
    return results;
  }
}
