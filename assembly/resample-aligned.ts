// Trilinear resampling when the voxel map has no rotation or shear: output x depends on input x
// alone, and likewise for y and z. This is the case of every resampling to a new spacing. Each
// output row then reads the same four input rows, which are first blended along y and z with
// SIMD into one row, so only the interpolation along x remains per output voxel.

import { clampCoordinate, inside, lowerCorner } from './sampling';

/** Same contract as resampleLinear, for a matrix whose off-diagonal 3x3 entries are 0. */
export function resampleAlignedLinear(
  src: usize,
  nx: i32,
  ny: i32,
  nz: i32,
  dst: usize,
  ox: i32,
  oy: i32,
  oz: i32,
  matrix: usize,
  fill: f32,
): void {
  // Per output column: the lower input column (-1 when outside), its weight and the step to
  // the upper column (0 at the last column).
  const columns = heap.alloc(<usize>ox << 2);
  const fractions = heap.alloc(<usize>ox << 2);
  const steps = heap.alloc(<usize>ox << 2);
  const blended = heap.alloc(<usize>nx << 2);
  planColumns(load<f64>(matrix), load<f64>(matrix, 24), nx, ox, columns, fractions, steps);

  const rowBytes = <usize>nx << 2;
  const planeBytes = rowBytes * <usize>ny;
  let out = dst;
  for (let k = 0; k < oz; k++) {
    const z = load<f64>(matrix, 80) * <f64>k + load<f64>(matrix, 88);
    for (let j = 0; j < oy; j++) {
      const y = load<f64>(matrix, 40) * <f64>j + load<f64>(matrix, 56);
      if (!inside(y, ny) || !inside(z, nz)) {
        fillRow(out, ox, fill);
        out += <usize>ox << 2;
        continue;
      }
      const cy = clampCoordinate(y, ny), cz = clampCoordinate(z, nz);
      const y0 = lowerCorner(cy, ny), z0 = lowerCorner(cz, nz);
      const fy = <f32>(cy - y0), fz = <f32>(cz - z0);
      const row00 = src + <usize>z0 * planeBytes + <usize>y0 * rowBytes;
      const stepY: usize = y0 + 1 < ny ? rowBytes : 0;
      const stepZ: usize = z0 + 1 < nz ? planeBytes : 0;
      blendRows(row00, stepY, stepZ, nx, fy, fz, blended);
      interpolateRow(blended, columns, fractions, steps, ox, fill, out);
      out += <usize>ox << 2;
    }
  }

  heap.free(blended);
  heap.free(steps);
  heap.free(fractions);
  heap.free(columns);
}

function planColumns(
  scale: f64,
  offset: f64,
  nx: i32,
  ox: i32,
  columns: usize,
  fractions: usize,
  steps: usize,
): void {
  for (let i = 0; i < ox; i++) {
    const x = scale * <f64>i + offset;
    const at = <usize>i << 2;
    if (!inside(x, nx)) {
      store<i32>(columns + at, -1);
      continue;
    }
    const cx = clampCoordinate(x, nx);
    const x0 = lowerCorner(cx, nx);
    store<i32>(columns + at, x0);
    store<f32>(fractions + at, <f32>(cx - x0));
    store<i32>(steps + at, x0 + 1 < nx ? 1 : 0);
  }
}

/** Writes into `blended` the bilinear mix, along y and z, of the four rows at `row00`. */
function blendRows(
  row00: usize,
  stepY: usize,
  stepZ: usize,
  nx: i32,
  fy: f32,
  fz: f32,
  blended: usize,
): void {
  const gy: f32 = 1.0 - fy, gz: f32 = 1.0 - fz;
  const w00 = gy * gz, w10 = fy * gz, w01 = gy * fz, w11 = fy * fz;
  const v00 = f32x4.splat(w00), v10 = f32x4.splat(w10);
  const v01 = f32x4.splat(w01), v11 = f32x4.splat(w11);
  const row10 = row00 + stepY, row01 = row00 + stepZ, row11 = row00 + stepY + stepZ;
  let x = 0;
  for (; x + 4 <= nx; x += 4) {
    const at = <usize>x << 2;
    let sum = f32x4.mul(v00, v128.load(row00 + at));
    sum = f32x4.add(sum, f32x4.mul(v10, v128.load(row10 + at)));
    sum = f32x4.add(sum, f32x4.mul(v01, v128.load(row01 + at)));
    sum = f32x4.add(sum, f32x4.mul(v11, v128.load(row11 + at)));
    v128.store(blended + at, sum);
  }
  for (; x < nx; x++) {
    const at = <usize>x << 2;
    const sum =
      w00 * load<f32>(row00 + at) +
      w10 * load<f32>(row10 + at) +
      w01 * load<f32>(row01 + at) +
      w11 * load<f32>(row11 + at);
    store<f32>(blended + at, sum);
  }
}

function interpolateRow(
  blended: usize,
  columns: usize,
  fractions: usize,
  steps: usize,
  ox: i32,
  fill: f32,
  out: usize,
): void {
  for (let i = 0; i < ox; i++) {
    const at = <usize>i << 2;
    const x0 = load<i32>(columns + at);
    let value = fill;
    if (x0 >= 0) {
      const low = load<f32>(blended + (<usize>x0 << 2));
      const high = load<f32>(blended + (<usize>(x0 + load<i32>(steps + at)) << 2));
      value = low + (high - low) * load<f32>(fractions + at);
    }
    store<f32>(out + at, value);
  }
}

@inline
function fillRow(out: usize, count: i32, value: f32): void {
  for (let i = 0; i < count; i++) store<f32>(out + (<usize>i << 2), value);
}
