// Patch-to-image inference: a sliding window of patches with overlap, run in batches, whose
// outputs are blended back into one volume. Blending is a weighted mean per voxel, with
// constant weights or a Gaussian centred on each patch (which lowers the weight of patch
// borders, where a convolution reads zero padding). Sums are kept in float64, so an identity
// network gives back the input values.

import { UserError } from '../errors.js';
import {
  checkBatchSize,
  checkVolume,
  outputChannels,
  product,
  runBatches,
  type ForwardFunction,
  type InferenceVolume,
} from './common.js';
import { copyBox, forEachRow, gridStrides } from './boxes.js';

export interface PatchInfererOptions {
  /** Patch size per spatial axis, in tensor order `[D, H, W]` (or `[H, W]` in 2D). */
  patchSize: readonly number[];
  /** Voxels shared by neighbouring patches, one number or one per axis. Default 0. */
  overlap?: number | readonly number[];
  /** 'constant' (plain mean) or 'gaussian' weights. Default 'gaussian'. */
  blending?: 'constant' | 'gaussian';
  /** Gaussian sigma as a fraction of the patch size along each axis. Default 0.125. */
  sigmaScale?: number;
  /** Patches per forward call; the network's static batch size. */
  batchSize: number;
}

/** Smallest Gaussian weight, so voxels at a patch corner still count where no patch is wider. */
const MIN_WEIGHT = 1e-3;

export class PatchInferer {
  readonly patchSize: readonly number[];
  readonly overlap: readonly number[];
  readonly blending: 'constant' | 'gaussian';
  readonly sigmaScale: number;
  readonly batchSize: number;

  constructor(options: PatchInfererOptions) {
    const size = options.patchSize;
    if (size.length < 1 || !size.every((extent) => Number.isInteger(extent) && extent >= 1)) {
      throw new UserError(
        `Patch size [${size.join(', ')}] is invalid: expected positive integers, one per axis.`,
      );
    }
    const overlap = options.overlap ?? 0;
    const overlaps = typeof overlap === 'number' ? size.map(() => overlap) : [...overlap];
    const validOverlap =
      overlaps.length === size.length &&
      overlaps.every((value, axis) => Number.isInteger(value) && value >= 0 && value < size[axis]!);
    if (!validOverlap) {
      throw new UserError(
        `Patch overlap [${overlaps.join(', ')}] is invalid for patch size [${size.join(', ')}]: ` +
          'expected one integer per axis, at least 0 and smaller than the patch.',
      );
    }
    const sigmaScale = options.sigmaScale ?? 0.125;
    if (!(sigmaScale > 0)) {
      throw new UserError(`Patch sigmaScale ${sigmaScale} is invalid: expected a number > 0.`);
    }
    checkBatchSize(options.batchSize);
    this.patchSize = [...size];
    this.overlap = overlaps;
    this.blending = options.blending ?? 'gaussian';
    this.sigmaScale = sigmaScale;
    this.batchSize = options.batchSize;
  }

  /** Returns the class name and options; the constructor takes them back. */
  toJSON() {
    const { patchSize, overlap, blending, sigmaScale, batchSize } = this;
    return {
      name: 'PatchInferer' as const,
      patchSize: [...patchSize],
      overlap: [...overlap],
      blending,
      sigmaScale,
      batchSize,
    };
  }

  /** Returns the first voxel of every patch, the last axis varying fastest. */
  patchStarts(spatialShape: readonly number[]): number[][] {
    const perAxis = spatialShape.map((extent, axis) =>
      windowStarts(extent, this.patchSize[axis]!, this.overlap[axis]!),
    );
    let starts: number[][] = [[]];
    for (const positions of perAxis) {
      starts = starts.flatMap((prefix) => positions.map((position) => [...prefix, position]));
    }
    return starts;
  }

  /** Returns the blending weight of each voxel of a patch, row-major. */
  weights(): Float64Array {
    const patchVoxels = product(this.patchSize);
    if (this.blending === 'constant') return new Float64Array(patchVoxels).fill(1);
    const axes = this.patchSize.map((extent) => {
      const sigma = this.sigmaScale * extent;
      const centre = (extent - 1) / 2;
      return Array.from({ length: extent }, (_, i) =>
        Math.exp(-((i - centre) ** 2) / (2 * sigma ** 2)),
      );
    });
    const weights = new Float64Array(patchVoxels);
    const strides = gridStrides(this.patchSize);
    for (let index = 0; index < patchVoxels; index++) {
      let weight = 1;
      for (const [axis, values] of axes.entries()) {
        weight *= values[Math.floor(index / strides[axis]!) % this.patchSize[axis]!]!;
      }
      weights[index] = Math.max(weight, MIN_WEIGHT);
    }
    return weights;
  }

  /** Runs `forward` over every patch of `volume` and returns the blended `[C', ...]` output. */
  async infer(forward: ForwardFunction, volume: InferenceVolume): Promise<InferenceVolume> {
    checkVolume(volume, this.patchSize.length);
    const [channels, ...spatial] = volume.shape as number[];
    if (spatial.some((extent, axis) => extent < this.patchSize[axis]!)) {
      throw new UserError(
        `Patch size [${this.patchSize.join(', ')}] is larger than the volume ` +
          `[${spatial.join(', ')}]; pad the volume (cropOrPad) or choose a smaller patch.`,
      );
    }

    const starts = this.patchStarts(spatial);
    const patchVoxels = product(this.patchSize);
    const weights = this.weights();
    const voxels = product(spatial);
    // The output channel count is known from the first batch's output.
    let sums: Float64Array | undefined;
    const weightSums = new Float64Array(voxels);
    let outChannels = 0;

    await runBatches(
      forward,
      { count: starts.length, batchSize: this.batchSize, sampleSize: channels! * patchVoxels },
      (batch, first, size) => {
        for (let row = 0; row < size; row++) {
          const target = batch.subarray(row * channels! * patchVoxels);
          copyBox(
            volume.data,
            [channels!, ...spatial],
            starts[first + row]!,
            this.patchSize,
            target,
          );
        }
      },
      (output, first, size, outputSize) => {
        outChannels = outputChannels(outputSize, patchVoxels, 'patch');
        sums ??= new Float64Array(outChannels * voxels);
        for (let row = 0; row < size; row++) {
          const patch = output.subarray(row * outputSize, (row + 1) * outputSize);
          this.accumulate(
            patch,
            outChannels,
            spatial,
            starts[first + row]!,
            weights,
            sums,
            weightSums,
          );
        }
      },
    );

    return { data: normalise(sums!, weightSums), shape: [outChannels, ...spatial] };
  }

  private accumulate(
    patch: Float32Array,
    outChannels: number,
    spatial: readonly number[],
    start: readonly number[],
    weights: Float64Array,
    sums: Float64Array,
    weightSums: Float64Array,
  ): void {
    const voxels = product(spatial);
    const rowLength = this.patchSize.at(-1)!;
    forEachRow(spatial, start, this.patchSize, (patchOffset, volumeOffset) => {
      for (let i = 0; i < rowLength; i++)
        weightSums[volumeOffset + i]! += weights[patchOffset + i]!;
    });
    const patchVoxels = weights.length;
    for (let channel = 0; channel < outChannels; channel++) {
      const source = patch.subarray(channel * patchVoxels);
      const base = channel * voxels;
      forEachRow(spatial, start, this.patchSize, (patchOffset, volumeOffset) => {
        for (let i = 0; i < rowLength; i++) {
          sums[base + volumeOffset + i]! += source[patchOffset + i]! * weights[patchOffset + i]!;
        }
      });
    }
  }
}

/**
 * Returns window starts along one axis: every `size - overlap` voxels, with the last window
 * moved back to end at the border, so every voxel is covered.
 */
export function windowStarts(extent: number, size: number, overlap: number): number[] {
  const step = size - overlap;
  const starts: number[] = [];
  for (let start = 0; start + size < extent; start += step) starts.push(start);
  starts.push(extent - size);
  return starts;
}

function normalise(sums: Float64Array, weightSums: Float64Array): Float32Array {
  const voxels = weightSums.length;
  const out = new Float32Array(sums.length);
  for (let index = 0; index < sums.length; index++) {
    out[index] = sums[index]! / weightSums[index % voxels]!;
  }
  return out;
}
