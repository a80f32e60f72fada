// Typed wrapper over the raw Wasm exports: callers pass and receive Float32Arrays, and this
// class allocates the module's memory, copies data in and out and frees every block, even when
// a call throws. Views on the memory are made after each allocation, because growing the
// memory detaches the previous ArrayBuffer.

import { UserError } from '../../errors.js';
import type { ImageBackend, IntensityStatistics } from './backend.js';
import type { ResampleExport, WasmExports } from './exports.js';

export type { Dims, Interpolation } from './backend.js';
import type { Dims, Interpolation } from './backend.js';

/**
 * Maximum size of the module's linear memory: 65536 pages of 64 KiB, the wasm32 limit, because
 * asconfig.json declares no smaller maximum. All the blocks of one call must fit in it.
 */
export const WASM_MEMORY_LIMIT_BYTES = 2 ** 32;

/**
 * Maximum size of one block. AssemblyScript's TLSF allocator (rt/common.ts BLOCK_MAXSIZE)
 * aborts for a block above 2^30 bytes less its header, so 16 bytes are kept free for that.
 */
export const WASM_BLOCK_LIMIT_BYTES = 2 ** 30 - 16;

/** A block of Wasm memory owned by one call. */
interface Block {
  ptr: number;
  bytes: number;
}

/** Allocations of one call, freed together. */
class Arena {
  private readonly blocks: Block[] = [];
  private totalBytes = 0;
  constructor(private readonly wasm: WasmExports) {}

  /**
   * Allocates `count` elements of `bytesPerElement` bytes (at least one element). Throws a
   * UserError before asking the module when the block cannot fit, because the module's
   * allocator aborts or traps instead of returning 0 then.
   */
  allocate(count: number, bytesPerElement = 4): number {
    const bytes = Math.max(count, 1) * bytesPerElement;
    if (bytes > WASM_BLOCK_LIMIT_BYTES || this.totalBytes + bytes > WASM_MEMORY_LIMIT_BYTES) {
      throw new UserError(
        `The Wasm image kernels cannot allocate ${bytes} bytes (${this.totalBytes} already ` +
          `allocated for this operation): one block is limited to ${WASM_BLOCK_LIMIT_BYTES} ` +
          `bytes and all of them to ${WASM_MEMORY_LIMIT_BYTES}. Use a smaller image or output.`,
      );
    }
    this.totalBytes += bytes;
    // An i32 result reads as negative in JavaScript past 2 GiB, so it is taken as unsigned.
    const ptr = this.wasm.alloc(bytes) >>> 0;
    if (ptr === 0) throw new RangeError(`Wasm allocation of ${bytes} bytes failed.`);
    this.blocks.push({ ptr, bytes });
    return ptr;
  }

  /** Allocates and fills a block with `data`. */
  input(data: Float32Array | Float64Array): number {
    const ptr = this.allocate(data.length, data.BYTES_PER_ELEMENT);
    const view =
      data instanceof Float32Array ? this.f32(ptr, data.length) : this.f64(ptr, data.length);
    view.set(data);
    return ptr;
  }

  f32(ptr: number, count: number): Float32Array {
    return new Float32Array(this.wasm.memory.buffer, ptr, count);
  }

  f64(ptr: number, count: number): Float64Array {
    return new Float64Array(this.wasm.memory.buffer, ptr, count);
  }

  i32(ptr: number, count: number): Int32Array {
    return new Int32Array(this.wasm.memory.buffer, ptr, count);
  }

  /** Copies `count` f32 out of the module into a new array. */
  read(ptr: number, count: number): Float32Array {
    return this.f32(ptr, count).slice();
  }

  freeAll(): void {
    for (const block of this.blocks.reverse()) this.wasm.free(block.ptr);
    this.blocks.length = 0;
    this.totalBytes = 0;
  }
}

/** The image operations of build/clinicadl.wasm, on Float32Arrays. */
export class ImageKernels implements ImageBackend {
  readonly name = 'wasm';
  constructor(private readonly wasm: WasmExports) {}

  /** Size in bytes of the module's linear memory, which grows and never shrinks. */
  get memoryBytes(): number {
    return this.wasm.memory.buffer.byteLength;
  }

  private withArena<T>(body: (arena: Arena) => T): T {
    const arena = new Arena(this.wasm);
    try {
      return body(arena);
    } finally {
      arena.freeAll();
    }
  }

  /**
   * Returns the volume whose output axis a is input axis `axisOf[a]`, reversed where `flips[a]`.
   * The output shape is [dims[axisOf[0]], dims[axisOf[1]], dims[axisOf[2]]].
   */
  permuteFlip(
    data: Float32Array,
    dims: Dims,
    axisOf: Dims,
    flips: readonly boolean[],
  ): Float32Array {
    const packed = axisOf[0] | (axisOf[1] << 2) | (axisOf[2] << 4);
    const flipBits = (flips[0] ? 1 : 0) | (flips[1] ? 2 : 0) | (flips[2] ? 4 : 0);
    return this.withArena((arena) => {
      const src = arena.input(data);
      const dst = arena.allocate(data.length);
      this.wasm.permuteFlip(src, dims[0], dims[1], dims[2], dst, packed, flipBits);
      return arena.read(dst, data.length);
    });
  }

  /** Returns the box of `outDims` starting at input voxel `start`; voxels outside get `fill`. */
  cropPad(data: Float32Array, dims: Dims, outDims: Dims, start: Dims, fill: number): Float32Array {
    const count = outDims[0] * outDims[1] * outDims[2];
    return this.withArena((arena) => {
      const src = arena.input(data);
      const dst = arena.allocate(count);
      this.wasm.cropPad(src, ...dims, dst, ...outDims, ...start, fill);
      return arena.read(dst, count);
    });
  }

  /**
   * Returns `starts.length / 3` boxes of `boxDims` concatenated; `starts` has each box's first
   * voxel as (x, y, z). Voxels outside the input get `fill`.
   */
  extractBoxes(
    data: Float32Array,
    dims: Dims,
    boxDims: Dims,
    starts: Int32Array,
    fill: number,
  ): Float32Array {
    const boxCount = starts.length / 3;
    const count = boxDims[0] * boxDims[1] * boxDims[2] * boxCount;
    return this.withArena((arena) => {
      const src = arena.input(data);
      const startsPtr = arena.allocate(starts.length);
      arena.i32(startsPtr, starts.length).set(starts);
      const dst = arena.allocate(count);
      this.wasm.extractBoxes(src, ...dims, dst, ...boxDims, startsPtr, boxCount, fill);
      return arena.read(dst, count);
    });
  }

  /** Returns the inclusive bounding box of the non-zero voxels, or null when there are none. */
  maskBoundingBox(mask: Float32Array, dims: Dims): { min: Dims; max: Dims } | null {
    return this.withArena((arena) => {
      const src = arena.input(mask);
      const box = arena.allocate(6);
      if (this.wasm.maskBoundingBox(src, ...dims, box) === 0) return null;
      const [x0, y0, z0, x1, y1, z1] = Array.from(arena.i32(box, 6));
      return { min: [x0!, y0!, z0!], max: [x1!, y1!, z1!] };
    });
  }

  /**
   * Resamples onto a grid of `outDims`; `matrix` is the 3x4 row-major map (12 numbers) from an
   * output voxel index to an input voxel index. Samples outside the input get `fill`.
   */
  resample(
    data: Float32Array,
    dims: Dims,
    outDims: Dims,
    matrix: Float64Array,
    interpolation: Interpolation,
    fill: number,
  ): Float32Array {
    const kernel: ResampleExport =
      interpolation === 'linear' ? this.wasm.resampleLinear : this.wasm.resampleNearest;
    const count = outDims[0] * outDims[1] * outDims[2];
    return this.withArena((arena) => {
      const src = arena.input(data);
      const transform = arena.input(matrix);
      const dst = arena.allocate(count);
      kernel(src, ...dims, dst, ...outDims, transform, fill);
      return arena.read(dst, count);
    });
  }

  countNonFinite(data: Float32Array): number {
    return this.withArena((arena) => this.wasm.countNonFinite(arena.input(data), data.length));
  }

  /** Returns the statistics of the voxels where `mask` is non-zero (all voxels without one). */
  statistics(data: Float32Array, mask?: Float32Array): IntensityStatistics {
    return this.withArena((arena) => {
      const src = arena.input(data);
      return this.computeStatistics(arena, src, mask ? arena.input(mask) : 0, data.length);
    });
  }

  /** Returns (data - offset) * scale, with the offset and scale `choose` picks from the statistics. */
  normalise(
    data: Float32Array,
    mask: Float32Array | undefined,
    choose: (statistics: IntensityStatistics) => { offset: number; scale: number },
  ): Float32Array {
    return this.withArena((arena) => {
      const src = arena.input(data);
      const maskPtr = mask ? arena.input(mask) : 0;
      const { offset, scale } = choose(this.computeStatistics(arena, src, maskPtr, data.length));
      this.wasm.subtractScale(src, src, data.length, offset, scale);
      return arena.read(src, data.length);
    });
  }

  private computeStatistics(
    arena: Arena,
    src: number,
    maskPtr: number,
    length: number,
  ): IntensityStatistics {
    const out = arena.allocate(6, 8);
    this.wasm.maskedStatistics(src, maskPtr, length, out);
    const [count, sum, min, max, nonFinite] = Array.from(arena.f64(out, 5)) as number[];
    if (count === 0) {
      return { count: 0, mean: NaN, variance: NaN, min: NaN, max: NaN, nonFinite: nonFinite! };
    }
    const mean = sum! / count!;
    const variance = this.wasm.maskedSquaredDeviation(src, maskPtr, length, mean) / count!;
    return { count: count!, mean, variance, min: min!, max: max!, nonFinite: nonFinite! };
  }

  /** Returns (data - offset) * scale. */
  subtractScale(data: Float32Array, offset: number, scale: number): Float32Array {
    return this.mapInPlace(data, (ptr) =>
      this.wasm.subtractScale(ptr, ptr, data.length, offset, scale),
    );
  }

  /** Returns data clamped to [low, high]. */
  clamp(data: Float32Array, low: number, high: number): Float32Array {
    return this.mapInPlace(data, (ptr) => this.wasm.clamp(ptr, ptr, data.length, low, high));
  }

  /** Returns the quantiles (each in [0, 1]) of the masked voxels, numpy's 'linear' method. */
  quantiles(data: Float32Array, qs: readonly number[], mask?: Float32Array): number[] {
    return this.withArena((arena) => {
      const scratch = arena.input(data);
      let count = data.length;
      if (mask) count = this.wasm.gatherMasked(scratch, arena.input(mask), data.length, scratch);
      if (count === 0) return qs.map(() => NaN);
      // Each selection leaves the values partitioned, which makes the next one cheaper.
      return qs.map((q) => this.wasm.quantile(scratch, count, q));
    });
  }

  /**
   * Convolves along each axis in turn with its weights (odd length, normalised), skipping axes
   * whose weights are null. Borders reflect as in scipy.ndimage's mode 'reflect'.
   */
  separableConvolve(
    data: Float32Array,
    dims: Dims,
    weightsPerAxis: readonly (Float32Array | null)[],
  ): Float32Array {
    return this.withArena((arena) => {
      let current = arena.input(data);
      let spare = arena.allocate(data.length);
      const longest = Math.max(...weightsPerAxis.map((weights) => weights?.length ?? 0));
      const scratch = arena.allocate(dims[0] + longest);
      for (let axis = 0; axis < 3; axis++) {
        const weights = weightsPerAxis[axis];
        if (!weights) continue;
        const radius = (weights.length - 1) / 2;
        const weightsPtr = arena.input(weights);
        this.wasm.convolveAxis(current, spare, ...dims, axis, weightsPtr, radius, scratch);
        [current, spare] = [spare, current];
      }
      return arena.read(current, data.length);
    });
  }

  /** Returns data + std * N(0, 1) drawn from the seeded xoshiro128** stream. */
  addGaussianNoise(data: Float32Array, std: number, seed: number): Float32Array {
    return this.mapInPlace(data, (ptr) =>
      this.wasm.addGaussianNoise(ptr, ptr, data.length, std, seed >>> 0),
    );
  }

  /** Returns data * exp(P) for the polynomial P of `order` (see assembly/random.ts). */
  multiplyBiasField(
    data: Float32Array,
    dims: Dims,
    order: number,
    coefficients: Float64Array,
  ): Float32Array {
    return this.withArena((arena) => {
      const ptr = arena.input(data);
      const coefficientsPtr = arena.input(coefficients);
      this.wasm.multiplyBiasField(ptr, ptr, ...dims, order, coefficientsPtr);
      return arena.read(ptr, data.length);
    });
  }

  /** Returns low + range * ((data - low) / range)^gamma, the ratio clamped to [0, 1]. */
  gammaMap(data: Float32Array, low: number, range: number, gamma: number): Float32Array {
    return this.mapInPlace(data, (ptr) =>
      this.wasm.gammaMap(ptr, ptr, data.length, low, range, gamma),
    );
  }

  /** Returns 1 where `labels` equals one of `values`, else 0. */
  labelMask(labels: Float32Array, values: readonly number[]): Float32Array {
    return this.withArena((arena) => {
      const src = arena.input(labels);
      const valuesPtr = arena.input(Float32Array.from(values));
      const dst = arena.allocate(labels.length);
      this.wasm.labelMask(src, labels.length, valuesPtr, values.length, dst);
      return arena.read(dst, labels.length);
    });
  }

  /** Returns data * (1 - factor * weight). */
  attenuate(data: Float32Array, weight: Float32Array, factor: number): Float32Array {
    return this.withArena((arena) => {
      const src = arena.input(data);
      const weightPtr = arena.input(weight);
      this.wasm.attenuate(src, weightPtr, src, data.length, factor);
      return arena.read(src, data.length);
    });
  }

  private mapInPlace(data: Float32Array, body: (ptr: number) => void): Float32Array {
    return this.withArena((arena) => {
      const ptr = arena.input(data);
      body(ptr);
      return arena.read(ptr, data.length);
    });
  }
}
