// The operations that the volume transforms (src/data/transforms) need from an image backend.
// ImageKernels runs them in Wasm with SIMD; ReferenceKernels (src/data/transforms/reference.ts)
// runs them in plain TypeScript with float64 arithmetic, for tests and benchmarks.

/** Sizes of the three spatial axes, [nx, ny, nz], x fastest. */
export type Dims = readonly [number, number, number];

/** Interpolation for resampling: 'linear' (trilinear) for images, 'nearest' for labels. */
export type Interpolation = 'linear' | 'nearest';

/** Statistics of the masked voxels of one volume; mean and variance are NaN when count is 0. */
export interface IntensityStatistics {
  count: number;
  mean: number;
  /** Population variance, from a second pass over (x - mean)^2. */
  variance: number;
  min: number;
  max: number;
  /** NaN or infinite voxels in the whole volume, masked or not. */
  nonFinite: number;
}

export interface ImageBackend {
  /** 'wasm' or 'reference', for messages and benchmark tables. */
  readonly name: string;
  permuteFlip(
    data: Float32Array,
    dims: Dims,
    axisOf: Dims,
    flips: readonly boolean[],
  ): Float32Array;
  cropPad(data: Float32Array, dims: Dims, outDims: Dims, start: Dims, fill: number): Float32Array;
  extractBoxes(
    data: Float32Array,
    dims: Dims,
    boxDims: Dims,
    starts: Int32Array,
    fill: number,
  ): Float32Array;
  maskBoundingBox(mask: Float32Array, dims: Dims): { min: Dims; max: Dims } | null;
  resample(
    data: Float32Array,
    dims: Dims,
    outDims: Dims,
    matrix: Float64Array,
    interpolation: Interpolation,
    fill: number,
  ): Float32Array;
  countNonFinite(data: Float32Array): number;
  /** Returns the statistics of the voxels where `mask` is non-zero (all voxels without one). */
  statistics(data: Float32Array, mask?: Float32Array): IntensityStatistics;
  /**
   * Returns (data - offset) * scale with the offset and scale that `choose` picks from the
   * masked statistics; `choose` may throw to reject the data.
   */
  normalise(
    data: Float32Array,
    mask: Float32Array | undefined,
    choose: (statistics: IntensityStatistics) => { offset: number; scale: number },
  ): Float32Array;
  /** Returns (data - offset) * scale. */
  subtractScale(data: Float32Array, offset: number, scale: number): Float32Array;
  clamp(data: Float32Array, low: number, high: number): Float32Array;
  quantiles(data: Float32Array, qs: readonly number[], mask?: Float32Array): number[];
  separableConvolve(
    data: Float32Array,
    dims: Dims,
    weightsPerAxis: readonly (Float32Array | null)[],
  ): Float32Array;
  addGaussianNoise(data: Float32Array, std: number, seed: number): Float32Array;
  multiplyBiasField(
    data: Float32Array,
    dims: Dims,
    order: number,
    coefficients: Float64Array,
  ): Float32Array;
  gammaMap(data: Float32Array, low: number, range: number, gamma: number): Float32Array;
  labelMask(labels: Float32Array, values: readonly number[]): Float32Array;
  attenuate(data: Float32Array, weight: Float32Array, factor: number): Float32Array;
}
