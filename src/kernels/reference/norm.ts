// Float64 references of batch, instance, group and layer normalisation and their gradients,
// computed from each element's coordinates (independently of the kernels' index layout).

import { numel } from '../common.js';
import type { NormGeometry } from '../norm.js';

/** Group and affine index of every element. */
function indexOf(geometry: NormGeometry): {
  group: Int32Array;
  affine: Int32Array;
  groups: number;
} {
  const shape = geometry.inputShape;
  const count = numel(shape);
  const group = new Int32Array(count);
  const affine = new Int32Array(count);
  if (geometry.kind === 'layerNorm') {
    const length = numel(shape.slice(shape.length - (geometry.normalizedDims ?? 1)));
    for (let i = 0; i < count; i++) {
      group[i] = Math.floor(i / length);
      affine[i] = i % length;
    }
    return { group, affine, groups: count / length };
  }
  const [n, c] = [shape[0]!, shape[1]!];
  const spatial = numel(shape.slice(2));
  const groups = geometry.kind === 'groupNorm' ? geometry.groups! : c;
  for (let i = 0; i < count; i++) {
    const channel = Math.floor(i / spatial) % c;
    const sample = Math.floor(i / (spatial * c));
    affine[i] = channel;
    group[i] =
      geometry.kind === 'batchNorm'
        ? channel
        : sample * groups + Math.floor(channel / (c / groups));
  }
  return { group, affine, groups: geometry.kind === 'batchNorm' ? c : n * groups };
}

export interface NormForward {
  y: Float64Array;
  mean: Float64Array;
  /** Biased variance per group. */
  variance: Float64Array;
}

/**
 * Normalises with batch statistics, or with `running` statistics when given (batch norm in
 * evaluation). Weight and bias are omitted without affine.
 */
export function normReference(
  geometry: NormGeometry,
  x: ArrayLike<number>,
  weight?: ArrayLike<number>,
  bias?: ArrayLike<number>,
  running?: { mean: ArrayLike<number>; variance: ArrayLike<number> },
): NormForward {
  const { group, affine, groups } = indexOf(geometry);
  const eps = geometry.eps ?? 1e-5;
  const count = new Float64Array(groups);
  const mean = new Float64Array(groups);
  const variance = new Float64Array(groups);
  if (running) {
    mean.set(Array.from(running.mean));
    variance.set(Array.from(running.variance));
  } else {
    for (let i = 0; i < x.length; i++) {
      mean[group[i]!]! += x[i]!;
      count[group[i]!]! += 1;
    }
    mean.forEach((total, g) => (mean[g] = total / count[g]!));
    for (let i = 0; i < x.length; i++) variance[group[i]!]! += (x[i]! - mean[group[i]!]!) ** 2;
    variance.forEach((total, g) => (variance[g] = total / count[g]!));
  }
  const y = Float64Array.from(x, (value, i) => {
    const g = group[i]!;
    const xhat = (value - mean[g]!) / Math.sqrt(variance[g]! + eps);
    return weight && bias ? xhat * weight[affine[i]!]! + bias[affine[i]!]! : xhat;
  });
  return { y, mean, variance };
}

/** Batch norm's running statistics after one training step, with the unbiased variance. */
export function runningStatsReference(
  geometry: NormGeometry,
  forward: NormForward,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
): { mean: Float64Array; variance: Float64Array } {
  const momentum = geometry.momentum ?? 0.1;
  const perChannel = numel(geometry.inputShape) / geometry.inputShape[1]!;
  const unbias = perChannel / (perChannel - 1);
  return {
    mean: Float64Array.from(
      runningMean,
      (r, c) => (1 - momentum) * r + momentum * forward.mean[c]!,
    ),
    variance: Float64Array.from(
      runningVar,
      (r, c) => (1 - momentum) * r + momentum * forward.variance[c]! * unbias,
    ),
  };
}

/**
 * Gradients of normReference with respect to x, weight and bias. With `running`, the
 * statistics are constants (batch norm in evaluation).
 */
export function normBackwardReference(
  geometry: NormGeometry,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  weight?: ArrayLike<number>,
  running?: { mean: ArrayLike<number>; variance: ArrayLike<number> },
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const { group, affine, groups } = indexOf(geometry);
  const eps = geometry.eps ?? 1e-5;
  const { mean, variance } = normReference(geometry, x, undefined, undefined, running);
  const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const affineCount = Math.max(...affine) + 1;
  const dweight = new Float64Array(affineCount);
  const dbias = new Float64Array(affineCount);
  const count = new Float64Array(groups);
  const sumD = new Float64Array(groups);
  const sumDX = new Float64Array(groups);
  const xhat = Float64Array.from(x, (value, i) => (value - mean[group[i]!]!) * invstd[group[i]!]!);
  const dxhat = Float64Array.from(dy, (value, i) => value * (weight ? weight[affine[i]!]! : 1));
  for (let i = 0; i < x.length; i++) {
    const g = group[i]!;
    count[g]! += 1;
    sumD[g]! += dxhat[i]!;
    sumDX[g]! += dxhat[i]! * xhat[i]!;
    dweight[affine[i]!]! += dy[i]! * xhat[i]!;
    dbias[affine[i]!]! += dy[i]!;
  }
  const dx = Float64Array.from(x, (_, i) => {
    const g = group[i]!;
    if (running) return dxhat[i]! * invstd[g]!;
    return invstd[g]! * (dxhat[i]! - sumD[g]! / count[g]! - (xhat[i]! * sumDX[g]!) / count[g]!);
  });
  return { dx, dweight, dbias };
}
