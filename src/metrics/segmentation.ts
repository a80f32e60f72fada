// Overlap and surface-distance metrics of binary masks on a voxel grid: Dice, IoU and the
// 95th-percentile Hausdorff distance in millimetres.

import { UserError } from '../errors.js';

export type Grid = readonly [number, number, number];

function checkMasks(a: ArrayLike<number>, b: ArrayLike<number>, shape: Grid): void {
  const voxels = shape[0] * shape[1] * shape[2];
  if (a.length !== voxels || b.length !== voxels) {
    throw new UserError(
      `Masks of ${a.length} and ${b.length} voxels do not match the grid [${shape.join(', ')}] ` +
        `(${voxels} voxels).`,
    );
  }
}

/** Dice coefficient 2|A∩B| / (|A| + |B|) of masks (non-zero = inside); 1 when both are empty. */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new UserError(`Masks of ${a.length} and ${b.length} voxels differ.`);
  let both = 0;
  let sizes = 0;
  for (let i = 0; i < a.length; i++) {
    const inA = a[i] !== 0;
    const inB = b[i] !== 0;
    if (inA && inB) both++;
    sizes += Number(inA) + Number(inB);
  }
  return sizes === 0 ? 1 : (2 * both) / sizes;
}

/** Intersection over union |A∩B| / |A∪B|; 1 when both are empty. */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new UserError(`Masks of ${a.length} and ${b.length} voxels differ.`);
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.length; i++) {
    const inA = a[i] !== 0;
    const inB = b[i] !== 0;
    if (inA && inB) both++;
    if (inA || inB) either++;
  }
  return either === 0 ? 1 : both / either;
}

/** Surface voxels: inside the mask with a 6-neighbour outside it or outside the grid. */
function surface(mask: ArrayLike<number>, shape: Grid): Uint8Array {
  const [nx, ny, nz] = shape;
  const result = new Uint8Array(nx * ny * nz);
  const inside = (x: number, y: number, z: number) =>
    x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz && mask[(x * ny + y) * nz + z] !== 0;
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++) {
        if (!inside(x, y, z)) continue;
        const border =
          !inside(x - 1, y, z) ||
          !inside(x + 1, y, z) ||
          !inside(x, y - 1, z) ||
          !inside(x, y + 1, z) ||
          !inside(x, y, z - 1) ||
          !inside(x, y, z + 1);
        if (border) result[(x * ny + y) * nz + z] = 1;
      }
    }
  }
  return result;
}

/**
 * Computes one axis of the exact squared Euclidean distance transform, the lower envelope
 * of parabolas (Felzenszwalb and Huttenlocher, "Distance Transforms of Sampled Functions",
 * 2012).
 */
function transformLine(f: Float64Array, spacing: number, out: Float64Array): void {
  const n = f.length;
  const vertices = new Int32Array(n);
  const bounds = new Float64Array(n + 1);
  let k = 0;
  let first = 0;
  while (first < n && f[first] === Number.POSITIVE_INFINITY) first++;
  if (first === n) {
    out.fill(Number.POSITIVE_INFINITY);
    return;
  }
  vertices[0] = first;
  bounds[0] = Number.NEGATIVE_INFINITY;
  bounds[1] = Number.POSITIVE_INFINITY;
  const position = (q: number) => q * spacing;
  for (let q = first + 1; q < n; q++) {
    if (f[q] === Number.POSITIVE_INFINITY) continue;
    // Drop the parabolas the new one hides; bounds[0] is -∞, so the loop stops at k = 0.
    let s: number;
    for (;;) {
      const v = vertices[k]!;
      s =
        (f[q]! + position(q) ** 2 - (f[v]! + position(v) ** 2)) / (2 * (position(q) - position(v)));
      if (s > bounds[k]!) break;
      k--;
    }
    k++;
    vertices[k] = q;
    bounds[k] = s;
    bounds[k + 1] = Number.POSITIVE_INFINITY;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (bounds[k + 1]! < position(q)) k++;
    const v = vertices[k]!;
    out[q] = (position(q) - position(v)) ** 2 + f[v]!;
  }
}

/** Squared distance (mm²) from every voxel to the nearest voxel set in `seeds`. */
function squaredDistanceTransform(seeds: Uint8Array, shape: Grid, spacing: Grid): Float64Array {
  const [, ny, nz] = shape;
  const distance = new Float64Array(seeds.length);
  for (let i = 0; i < seeds.length; i++) distance[i] = seeds[i] ? 0 : Number.POSITIVE_INFINITY;
  const strides = [ny * nz, nz, 1];
  for (let axis = 0; axis < 3; axis++) {
    const n = shape[axis]!;
    const line = new Float64Array(n);
    const out = new Float64Array(n);
    const others = [0, 1, 2].filter((a) => a !== axis);
    for (let i = 0; i < shape[others[0]!]!; i++) {
      for (let j = 0; j < shape[others[1]!]!; j++) {
        const base = i * strides[others[0]!]! + j * strides[others[1]!]!;
        for (let q = 0; q < n; q++) line[q] = distance[base + q * strides[axis]!]!;
        transformLine(line, spacing[axis]!, out);
        for (let q = 0; q < n; q++) distance[base + q * strides[axis]!] = out[q]!;
      }
    }
  }
  return distance;
}

/** NumPy's default (linear) percentile of unsorted values. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/**
 * Computes the `percentile`-th Hausdorff distance in mm between the surfaces of masks A and B: the
 * larger of the two directed percentiles of surface-to-surface distances, as MONAI's
 * compute_hausdorff_distance with percentile=95. NaN when either mask is empty.
 */
export function hausdorffDistance(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  shape: Grid,
  spacing: Grid = [1, 1, 1],
  percentileRank = 95,
): number {
  checkMasks(a, b, shape);
  const surfaceA = surface(a, shape);
  const surfaceB = surface(b, shape);
  if (!surfaceA.includes(1) || !surfaceB.includes(1)) return Number.NaN;
  const toB = squaredDistanceTransform(surfaceB, shape, spacing);
  const toA = squaredDistanceTransform(surfaceA, shape, spacing);
  const fromA: number[] = [];
  const fromB: number[] = [];
  for (let i = 0; i < surfaceA.length; i++) {
    if (surfaceA[i]) fromA.push(Math.sqrt(toB[i]!));
    if (surfaceB[i]) fromB.push(Math.sqrt(toA[i]!));
  }
  return Math.max(percentile(fromA, percentileRank), percentile(fromB, percentileRank));
}
