// Slice-to-image inference: a 2D network runs over every slice of a volume along one axis, and
// its outputs are stacked back in place. The axis follows the datasets' slice extraction: the
// voxel axis x, y or z (0, 1, 2), which is tensor axis W, H or D of `[C, D, H, W]`. A slice
// keeps the other two tensor axes in order, so a slice along x is `[C, D, H]`.

import { UserError } from '../errors.js';
import { copyBox, pasteBox } from './boxes.js';
import {
  checkBatchSize,
  checkVolume,
  outputChannels,
  product,
  runBatches,
  type ForwardFunction,
  type InferenceVolume,
} from './common.js';

export interface SliceInfererOptions {
  /** Voxel axis the slices are perpendicular to: 0 (x, sagittal in RAS), 1 (y), 2 (z). */
  axis: number;
  /** Slices per forward call; the network's static batch size. */
  batchSize: number;
}

export class SliceInferer {
  readonly axis: number;
  readonly batchSize: number;

  constructor(options: SliceInfererOptions) {
    if (![0, 1, 2].includes(options.axis)) {
      throw new UserError(`Slice axis ${options.axis} is invalid: expected 0 (x), 1 (y) or 2 (z).`);
    }
    checkBatchSize(options.batchSize);
    this.axis = options.axis;
    this.batchSize = options.batchSize;
  }

  /** Returns the class name and options; the constructor takes them back. */
  toJSON() {
    return {
      name: 'SliceInferer' as const,
      axis: this.axis as 0 | 1 | 2,
      batchSize: this.batchSize,
    };
  }

  /** Runs `forward` on every slice of a `[C, D, H, W]` volume; returns `[C', D, H, W]`. */
  async infer(forward: ForwardFunction, volume: InferenceVolume): Promise<InferenceVolume> {
    checkVolume(volume, 3);
    const [channels, ...spatial] = volume.shape as number[];
    const tensorAxis = 2 - this.axis;
    const boxSize = spatial.map((extent, axis) => (axis === tensorAxis ? 1 : extent));
    const sliceVoxels = product(boxSize);
    const startOf = (position: number) =>
      spatial.map((_, axis) => (axis === tensorAxis ? position : 0));
    let result: Float32Array | undefined;
    let outChannels = 0;
    await runBatches(
      forward,
      {
        count: spatial[tensorAxis]!,
        batchSize: this.batchSize,
        sampleSize: channels! * sliceVoxels,
      },
      (batch, first, size) => {
        for (let row = 0; row < size; row++) {
          const target = batch.subarray(row * channels! * sliceVoxels);
          copyBox(volume.data, volume.shape, startOf(first + row), boxSize, target);
        }
      },
      (output, first, size, outputSize) => {
        outChannels = outputChannels(outputSize, sliceVoxels, 'slice');
        result ??= new Float32Array(outChannels * product(spatial));
        for (let row = 0; row < size; row++) {
          const slice = output.subarray(row * outputSize, (row + 1) * outputSize);
          pasteBox(slice, [outChannels, ...spatial], startOf(first + row), boxSize, result);
        }
      },
    );
    return { data: result!, shape: [outChannels, ...spatial] };
  }
}
