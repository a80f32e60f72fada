// Resampling of an x-fastest volume onto another grid. `matrix` points to 12 f64: the 3x4
// row-major map from an output voxel index (i, j, k, 1) to a continuous input voxel index,
// which the host builds from the two affines. A sample is inside the input when each
// coordinate lies in [0, n - 1], within 1e-5 voxel for rounding in the affines. Samples outside
// get `fill`, as with scipy.ndimage's mode 'constant'.

import { resampleAlignedLinear } from './resample-aligned';
import {
  clampCoordinate,
  inside,
  lerp,
  lowerCorner,
  mapRow,
  nearestIndex,
} from './sampling';

/** Trilinear interpolation, for images. */
export function resampleLinear(
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
  if (isAxisAligned(matrix)) {
    resampleAlignedLinear(src, nx, ny, nz, dst, ox, oy, oz, matrix, fill);
    return;
  }
  const strideY = <usize>nx;
  const strideZ = <usize>nx * <usize>ny;
  const dxi = load<f64>(matrix), dyi = load<f64>(matrix, 32), dzi = load<f64>(matrix, 64);
  let out = dst;
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      // Along a row the coordinates advance by the matrix's first column. The rounding error
      // this adds (about 1e-13 voxel) is far below the f32 resolution of the weights.
      let x = mapRow(matrix, 0, 0, j, k);
      let y = mapRow(matrix, 1, 0, j, k);
      let z = mapRow(matrix, 2, 0, j, k);
      for (let i = 0; i < ox; i++) {
        let value = fill;
        if (inside(x, nx) && inside(y, ny) && inside(z, nz)) {
          const cx = clampCoordinate(x, nx);
          const cy = clampCoordinate(y, ny);
          const cz = clampCoordinate(z, nz);
          const x0 = lowerCorner(cx, nx);
          const y0 = lowerCorner(cy, ny);
          const z0 = lowerCorner(cz, nz);
          const fx = <f32>(cx - x0);
          const fy = <f32>(cy - y0);
          const fz = <f32>(cz - z0);
          const sx: usize = x0 + 1 < nx ? 4 : 0;
          const sy: usize = y0 + 1 < ny ? strideY << 2 : 0;
          const sz: usize = z0 + 1 < nz ? strideZ << 2 : 0;
          const p = src + ((<usize>z0 * strideZ + <usize>y0 * strideY + <usize>x0) << 2);
          const c00 = lerp(load<f32>(p), load<f32>(p + sx), fx);
          const c10 = lerp(load<f32>(p + sy), load<f32>(p + sy + sx), fx);
          const c01 = lerp(load<f32>(p + sz), load<f32>(p + sz + sx), fx);
          const c11 = lerp(load<f32>(p + sz + sy), load<f32>(p + sz + sy + sx), fx);
          value = lerp(lerp(c00, c10, fy), lerp(c01, c11, fy), fz);
        }
        store<f32>(out, value);
        out += 4;
        x += dxi;
        y += dyi;
        z += dzi;
      }
    }
  }
}

/** Nearest-neighbour interpolation, for label volumes: values are copied, never blended. */
export function resampleNearest(
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
  const strideY = <usize>nx;
  const strideZ = <usize>nx * <usize>ny;
  let out = dst;
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      for (let i = 0; i < ox; i++) {
        const x = mapRow(matrix, 0, i, j, k);
        const y = mapRow(matrix, 1, i, j, k);
        const z = mapRow(matrix, 2, i, j, k);
        let value = fill;
        if (inside(x, nx) && inside(y, ny) && inside(z, nz)) {
          const xi = nearestIndex(x, nx);
          const yi = nearestIndex(y, ny);
          const zi = nearestIndex(z, nz);
          value = load<f32>(src + ((<usize>zi * strideZ + <usize>yi * strideY + <usize>xi) << 2));
        }
        store<f32>(out, value);
        out += 4;
      }
    }
  }
}

/** Returns true when output axis a maps onto input axis a alone (no rotation or shear). */
function isAxisAligned(matrix: usize): bool {
  return (
    load<f64>(matrix, 8) == 0 &&
    load<f64>(matrix, 16) == 0 &&
    load<f64>(matrix, 32) == 0 &&
    load<f64>(matrix, 48) == 0 &&
    load<f64>(matrix, 64) == 0 &&
    load<f64>(matrix, 72) == 0
  );
}
