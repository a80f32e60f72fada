// Plain TypeScript, float64 versions of the intensity kernels in assembly/intensity.ts,
// assembly/smooth.ts, assembly/random.ts and assembly/pointwise.ts (see reference-geometry.ts).

import type { Dims, IntensityStatistics } from '../wasm/backend.js';
import { Xoshiro128 } from './random.js';

export function countNonFinite(data: Float32Array): number {
  let count = 0;
  for (const value of data) if (!Number.isFinite(value)) count++;
  return count;
}

export function statistics(data: Float32Array, mask?: Float32Array): IntensityStatistics {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    if (mask && mask[i] === 0) continue;
    sum += data[i]!;
    min = Math.min(min, data[i]!);
    max = Math.max(max, data[i]!);
    count++;
  }
  const nonFinite = countNonFinite(data);
  if (count === 0) return { count, mean: NaN, variance: NaN, min: NaN, max: NaN, nonFinite };
  const mean = sum / count;
  let squared = 0;
  for (let i = 0; i < data.length; i++) {
    if (mask && mask[i] === 0) continue;
    squared += (data[i]! - mean) ** 2;
  }
  return { count, mean, variance: squared / count, min, max, nonFinite };
}

export function normalise(
  data: Float32Array,
  mask: Float32Array | undefined,
  choose: (statistics: IntensityStatistics) => { offset: number; scale: number },
): Float32Array {
  const { offset, scale } = choose(statistics(data, mask));
  return subtractScale(data, offset, scale);
}

export function subtractScale(data: Float32Array, offset: number, scale: number): Float32Array {
  return data.map((value) => (value - offset) * scale);
}

export function clamp(data: Float32Array, low: number, high: number): Float32Array {
  return data.map((value) => Math.min(Math.max(value, low), high));
}

/** Quantiles by a full sort and numpy's 'linear' interpolation between ranks. */
export function quantiles(
  data: Float32Array,
  qs: readonly number[],
  mask?: Float32Array,
): number[] {
  const values = Float64Array.from(mask ? data.filter((_, i) => mask[i] !== 0) : data).sort();
  if (values.length === 0) return qs.map(() => NaN);
  return qs.map((q) => {
    const rank = q * (values.length - 1);
    const lower = Math.floor(rank);
    const upper = Math.min(lower + 1, values.length - 1);
    return values[lower]! + (values[upper]! - values[lower]!) * (rank - lower);
  });
}

/** Convolves along each axis with float64 intermediates; borders reflect (d c b a | a b c d). */
export function separableConvolve(
  data: Float32Array,
  dims: Dims,
  weightsPerAxis: readonly (Float32Array | null)[],
): Float32Array {
  let current = Float64Array.from(data);
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let axis = 0; axis < 3; axis++) {
    const weights = weightsPerAxis[axis];
    if (!weights) continue;
    const radius = (weights.length - 1) / 2;
    const n = dims[axis]!;
    const stride = strides[axis]!;
    const next = new Float64Array(current.length);
    for (let v = 0; v < current.length; v++) {
      const position = Math.floor(v / stride) % n;
      const lineStart = v - position * stride;
      let sum = 0;
      for (let k = -radius; k <= radius; k++) {
        sum += weights[k + radius]! * current[lineStart + reflect(position + k, n) * stride]!;
      }
      next[v] = sum;
    }
    current = next;
  }
  return Float32Array.from(current);
}

function reflect(index: number, n: number): number {
  const period = 2 * n;
  const p = ((index % period) + period) % period;
  return p < n ? p : period - 1 - p;
}

export function addGaussianNoise(data: Float32Array, std: number, seed: number): Float32Array {
  const generator = new Xoshiro128(seed);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i += 2) {
    const [first, second] = generator.normalPair();
    out[i] = data[i]! + std * first;
    if (i + 1 < data.length) out[i + 1] = data[i + 1]! + std * second;
  }
  return out;
}

export function multiplyBiasField(
  data: Float32Array,
  dims: Dims,
  order: number,
  coefficients: Float64Array,
): Float32Array {
  const out = new Float32Array(data.length);
  const normalised = (index: number, n: number) => (n > 1 ? (2 * index) / (n - 1) - 1 : 0);
  let v = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++) {
        const [x, y, z] = [normalised(i, dims[0]), normalised(j, dims[1]), normalised(k, dims[2])];
        let logField = 0;
        let c = 0;
        for (let px = 0; px <= order; px++) {
          for (let py = 0; py <= order - px; py++) {
            for (let pz = 0; pz <= order - px - py; pz++) {
              logField += coefficients[c++]! * x ** px * y ** py * z ** pz;
            }
          }
        }
        out[v] = data[v]! * Math.exp(logField);
        v++;
      }
    }
  }
  return out;
}

export function gammaMap(
  data: Float32Array,
  low: number,
  range: number,
  gamma: number,
): Float32Array {
  return data.map((value) => {
    const t = Math.min(Math.max((value - low) / range, 0), 1);
    return low + range * t ** gamma;
  });
}

export function labelMask(labels: Float32Array, values: readonly number[]): Float32Array {
  const wanted = new Set(values.map((value) => Math.fround(value)));
  return labels.map((label) => (wanted.has(label) ? 1 : 0));
}

export function attenuate(data: Float32Array, weight: Float32Array, factor: number): Float32Array {
  return data.map((value, i) => value * (1 - factor * weight[i]!));
}
