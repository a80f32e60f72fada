// Regression and reconstruction metrics over paired values: MAE, MSE, RMSE, R², PSNR and SSIM.

import { UserError } from '../errors.js';

function checkPairs(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
  if (yTrue.length !== yPred.length || yTrue.length === 0) {
    throw new UserError(
      `Metrics need equal, non-zero numbers of targets and predictions, got ${yTrue.length} ` +
        `and ${yPred.length}.`,
    );
  }
}

export interface RegressionMetrics {
  mae: number;
  mse: number;
  rmse: number;
  /** Coefficient of determination, as scikit-learn's r2_score. */
  r2: number;
}

export function regressionMetrics(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
): RegressionMetrics {
  checkPairs(yTrue, yPred);
  const n = yTrue.length;
  let absolute = 0;
  let squared = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const error = yPred[i]! - yTrue[i]!;
    absolute += Math.abs(error);
    squared += error * error;
    mean += yTrue[i]!;
  }
  mean /= n;
  let total = 0;
  for (let i = 0; i < n; i++) total += (yTrue[i]! - mean) ** 2;
  const mse = squared / n;
  // As scikit-learn's r2_score: with constant targets, 1 for a perfect fit, else 0.
  const r2 = total === 0 ? (squared === 0 ? 1 : 0) : 1 - squared / total;
  return { mae: absolute / n, mse, rmse: Math.sqrt(mse), r2 };
}

/**
 * Peak signal-to-noise ratio in dB: 10·log10(dataRange² / MSE). `dataRange` defaults to the
 * target's max − min, as MONAI's PSNRMetric with max_val taken from the data. Infinite for
 * identical images.
 */
export function psnr(
  target: ArrayLike<number>,
  image: ArrayLike<number>,
  dataRange?: number,
): number {
  checkPairs(target, image);
  let squared = 0;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < target.length; i++) {
    squared += (image[i]! - target[i]!) ** 2;
    low = Math.min(low, target[i]!);
    high = Math.max(high, target[i]!);
  }
  const range = dataRange ?? high - low;
  if (!(range > 0)) {
    throw new UserError(`PSNR needs a positive data range, got ${range}; pass dataRange.`);
  }
  const mse = squared / target.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((range * range) / mse);
}

export interface SsimOptions {
  /** Max − min of the intensities; default: the target's. */
  dataRange?: number;
  /** Standard deviation of the Gaussian window in voxels; default 1.5. */
  sigma?: number;
  /** Window side in voxels (odd); default 11, or the image side when smaller (made odd). */
  windowSize?: number;
}

/** Gaussian weights of an odd window, summing to 1. */
function gaussianWindow(size: number, sigma: number): Float64Array {
  const weights = new Float64Array(size);
  const centre = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    weights[i] = Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma));
    sum += weights[i]!;
  }
  for (let i = 0; i < size; i++) weights[i]! /= sum;
  return weights;
}

/**
 * Filters a volume along one axis with `weights`, keeping only positions where the window
 * fits ("valid"), so the output axis shrinks by weights.length − 1.
 */
function filterAxis(
  data: Float64Array,
  shape: number[],
  axis: number,
  weights: Float64Array,
): { data: Float64Array; shape: number[] } {
  const outShape = [...shape];
  outShape[axis] = shape[axis]! - weights.length + 1;
  const strides = [shape[1]! * shape[2]!, shape[2]!, 1];
  const out = new Float64Array(outShape[0]! * outShape[1]! * outShape[2]!);
  let index = 0;
  for (let x = 0; x < outShape[0]!; x++) {
    for (let y = 0; y < outShape[1]!; y++) {
      for (let z = 0; z < outShape[2]!; z++) {
        const base = x * strides[0]! + y * strides[1]! + z * strides[2]!;
        let sum = 0;
        for (let k = 0; k < weights.length; k++)
          sum += weights[k]! * data[base + k * strides[axis]!]!;
        out[index++] = sum;
      }
    }
  }
  return { data: out, shape: outShape };
}

function gaussianFilter(
  data: Float64Array,
  shape: number[],
  windows: Float64Array[],
): Float64Array {
  let current = { data, shape };
  for (let axis = 0; axis < 3; axis++)
    current = filterAxis(current.data, current.shape, axis, windows[axis]!);
  return current.data;
}

/**
 * Structural similarity (Wang et al., 2004) of two volumes of shape [X, Y, Z] (use 1 for
 * missing axes), with a Gaussian window over the valid region and K1 = 0.01, K2 = 0.03: the
 * mean of the SSIM map.
 */
export function ssim(
  target: ArrayLike<number>,
  image: ArrayLike<number>,
  shape: readonly number[],
  options: SsimOptions = {},
): number {
  checkPairs(target, image);
  const full = [shape[0] ?? 1, shape[1] ?? 1, shape[2] ?? 1];
  if (full[0]! * full[1]! * full[2]! !== target.length) {
    throw new UserError(`SSIM shape [${full.join(', ')}] does not match ${target.length} voxels.`);
  }
  const sigma = options.sigma ?? 1.5;
  const windows = full.map((side) => {
    const requested = options.windowSize ?? 11;
    const size = Math.min(requested, side % 2 === 1 ? side : side - 1);
    return size <= 1 ? Float64Array.of(1) : gaussianWindow(size, sigma);
  });
  const a = Float64Array.from(target);
  const b = Float64Array.from(image);
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of a) {
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  const range = options.dataRange ?? high - low;
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  const product = (u: Float64Array, v: Float64Array) => u.map((value, i) => value * v[i]!);
  const muA = gaussianFilter(a, full, windows);
  const muB = gaussianFilter(b, full, windows);
  const aa = gaussianFilter(product(a, a), full, windows);
  const bb = gaussianFilter(product(b, b), full, windows);
  const ab = gaussianFilter(product(a, b), full, windows);
  let sum = 0;
  for (let i = 0; i < muA.length; i++) {
    const varA = aa[i]! - muA[i]! ** 2;
    const varB = bb[i]! - muB[i]! ** 2;
    const cov = ab[i]! - muA[i]! * muB[i]!;
    const numerator = (2 * muA[i]! * muB[i]! + c1) * (2 * cov + c2);
    const denominator = (muA[i]! ** 2 + muB[i]! ** 2 + c1) * (varA + varB + c2);
    sum += numerator / denominator;
  }
  return sum / muA.length;
}
