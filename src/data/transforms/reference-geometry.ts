// Plain TypeScript, float64 versions of the voxel-moving kernels in assembly/geometry.ts and
// assembly/resample.ts: the reference the Wasm kernels are tested against, and the "plain
// TypeScript" column of bench/preprocess.ts.

import type { Dims, Interpolation } from '../wasm/backend.js';

const EDGE_TOLERANCE = 1e-5;

export function permuteFlip(
  data: Float32Array,
  dims: Dims,
  axisOf: Dims,
  flips: readonly boolean[],
): Float32Array {
  const inStrides = [1, dims[0], dims[0] * dims[1]];
  const [ox, oy, oz] = axisOf.map((axis) => dims[axis]!) as [number, number, number];
  const [sx, sy, sz] = axisOf.map((axis) => inStrides[axis]!) as [number, number, number];
  const out = new Float32Array(data.length);
  let o = 0;
  for (let k = 0; k < oz; k++) {
    const kk = flips[2] ? oz - 1 - k : k;
    for (let j = 0; j < oy; j++) {
      const jj = flips[1] ? oy - 1 - j : j;
      for (let i = 0; i < ox; i++) {
        const ii = flips[0] ? ox - 1 - i : i;
        out[o++] = data[ii * sx + jj * sy + kk * sz]!;
      }
    }
  }
  return out;
}

export function cropPad(
  data: Float32Array,
  dims: Dims,
  outDims: Dims,
  start: Dims,
  fill: number,
): Float32Array {
  const out = new Float32Array(outDims[0] * outDims[1] * outDims[2]);
  writeBox(data, dims, out, 0, outDims, start, fill);
  return out;
}

export function extractBoxes(
  data: Float32Array,
  dims: Dims,
  boxDims: Dims,
  starts: Int32Array,
  fill: number,
): Float32Array {
  const boxSize = boxDims[0] * boxDims[1] * boxDims[2];
  const out = new Float32Array(boxSize * (starts.length / 3));
  for (let b = 0; b * 3 < starts.length; b++) {
    const start: Dims = [starts[3 * b]!, starts[3 * b + 1]!, starts[3 * b + 2]!];
    writeBox(data, dims, out, b * boxSize, boxDims, start, fill);
  }
  return out;
}

function writeBox(
  data: Float32Array,
  dims: Dims,
  out: Float32Array,
  offset: number,
  outDims: Dims,
  start: Dims,
  fill: number,
): void {
  const [nx, ny, nz] = dims;
  let o = offset;
  for (let k = 0; k < outDims[2]; k++) {
    const z = start[2] + k;
    for (let j = 0; j < outDims[1]; j++) {
      const y = start[1] + j;
      for (let i = 0; i < outDims[0]; i++) {
        const x = start[0] + i;
        const inside = x >= 0 && x < nx && y >= 0 && y < ny && z >= 0 && z < nz;
        out[o++] = inside ? data[x + nx * (y + ny * z)]! : fill;
      }
    }
  }
}

export function maskBoundingBox(mask: Float32Array, dims: Dims): { min: Dims; max: Dims } | null {
  const low = [Infinity, Infinity, Infinity];
  const high = [-1, -1, -1];
  let v = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++) {
        if (mask[v++] === 0) continue;
        [i, j, k].forEach((position, axis) => {
          low[axis] = Math.min(low[axis]!, position);
          high[axis] = Math.max(high[axis]!, position);
        });
      }
    }
  }
  if (high[0] === -1) return null;
  return { min: low as unknown as Dims, max: high as unknown as Dims };
}

export function resample(
  data: Float32Array,
  dims: Dims,
  outDims: Dims,
  matrix: Float64Array,
  interpolation: Interpolation,
  fill: number,
): Float32Array {
  const out = new Float32Array(outDims[0] * outDims[1] * outDims[2]);
  const sample = interpolation === 'linear' ? sampleLinear : sampleNearest;
  const m = matrix;
  let o = 0;
  for (let k = 0; k < outDims[2]; k++) {
    for (let j = 0; j < outDims[1]; j++) {
      for (let i = 0; i < outDims[0]; i++) {
        const x = m[0]! * i + m[1]! * j + m[2]! * k + m[3]!;
        const y = m[4]! * i + m[5]! * j + m[6]! * k + m[7]!;
        const z = m[8]! * i + m[9]! * j + m[10]! * k + m[11]!;
        const inside = isInside(x, dims[0]) && isInside(y, dims[1]) && isInside(z, dims[2]);
        out[o++] = inside ? sample(data, dims, x, y, z) : fill;
      }
    }
  }
  return out;
}

function isInside(coordinate: number, n: number): boolean {
  return coordinate >= -EDGE_TOLERANCE && coordinate <= n - 1 + EDGE_TOLERANCE;
}

/** Returns the lower bracketing voxel of a coordinate clamped to [0, n - 1], and the fraction. */
function bracket(coordinate: number, n: number): [number, number] {
  const c = Math.min(Math.max(coordinate, 0), n - 1);
  const lower = Math.min(Math.floor(c), Math.max(n - 2, 0));
  return [lower, c - lower];
}

function sampleLinear(data: Float32Array, dims: Dims, x: number, y: number, z: number): number {
  const [nx, ny, nz] = dims;
  const [x0, fx] = bracket(x, nx);
  const [y0, fy] = bracket(y, ny);
  const [z0, fz] = bracket(z, nz);
  const x1 = Math.min(x0 + 1, nx - 1);
  const y1 = Math.min(y0 + 1, ny - 1);
  const z1 = Math.min(z0 + 1, nz - 1);
  const at = (i: number, j: number, k: number) => data[i + nx * (j + ny * k)]!;
  const c00 = at(x0, y0, z0) * (1 - fx) + at(x1, y0, z0) * fx;
  const c10 = at(x0, y1, z0) * (1 - fx) + at(x1, y1, z0) * fx;
  const c01 = at(x0, y0, z1) * (1 - fx) + at(x1, y0, z1) * fx;
  const c11 = at(x0, y1, z1) * (1 - fx) + at(x1, y1, z1) * fx;
  const c0 = c00 * (1 - fy) + c10 * fy;
  const c1 = c01 * (1 - fy) + c11 * fy;
  return c0 * (1 - fz) + c1 * fz;
}

function sampleNearest(data: Float32Array, dims: Dims, x: number, y: number, z: number): number {
  const [nx, ny, nz] = dims;
  const i = Math.min(Math.max(Math.floor(x + 0.5), 0), nx - 1);
  const j = Math.min(Math.max(Math.floor(y + 0.5), 0), ny - 1);
  const k = Math.min(Math.max(Math.floor(z + 0.5), 0), nz - 1);
  return data[i + nx * (j + ny * k)]!;
}
