// Voxel-order operations on x-fastest volumes: axis permutation with flips, crop or pad,
// and the bounding box of a mask. The host updates the affine; these move voxels only.

/**
 * Writes into `dst` the volume whose output axis a reads input axis `axisOf[a]`, reversed when
 * bit a of `flips` is set. `axisOf` is packed as axisOf0 | axisOf1 << 2 | axisOf2 << 4.
 */
export function permuteFlip(
  src: usize,
  nx: i32,
  ny: i32,
  nz: i32,
  dst: usize,
  packedAxes: i32,
  flips: i32,
): void {
  const axisX = packedAxes & 3;
  const axisY = (packedAxes >> 2) & 3;
  const axisZ = (packedAxes >> 4) & 3;
  const ox = pick(axisX, nx, ny, nz);
  const oy = pick(axisY, nx, ny, nz);
  const oz = pick(axisZ, nx, ny, nz);
  const strideX = pick(axisX, 1, nx, nx * ny);
  const strideY = pick(axisY, 1, nx, nx * ny);
  const strideZ = pick(axisZ, 1, nx, nx * ny);
  const flipX = flips & 1, flipY = (flips >> 1) & 1, flipZ = (flips >> 2) & 1;
  const stepX = flipX ? -strideX : strideX;
  const stepY = flipY ? -strideY : strideY;
  const stepZ = flipZ ? -strideZ : strideZ;
  const start =
    (flipX ? (ox - 1) * strideX : 0) + (flipY ? (oy - 1) * strideY : 0) + (flipZ ? (oz - 1) * strideZ : 0);
  let out = dst;
  for (let k = 0; k < oz; k++) {
    for (let j = 0; j < oy; j++) {
      const rowStart = start + k * stepZ + j * stepY;
      if (stepX == 1) {
        memory.copy(out, src + (<usize>rowStart << 2), <usize>ox << 2);
      } else {
        copyStridedRow(src, rowStart, stepX, out, ox);
      }
      out += <usize>ox << 2;
    }
  }
}

@inline
function pick(axis: i32, x: i32, y: i32, z: i32): i32 {
  return axis == 0 ? x : axis == 1 ? y : z;
}

@inline
function copyStridedRow(src: usize, first: i32, step: i32, out: usize, count: i32): void {
  let index = first;
  for (let i = 0; i < count; i++) {
    store<f32>(out + (<usize>i << 2), load<f32>(src + (<usize>index << 2)));
    index += step;
  }
}

/**
 * Writes the box of size (ox, oy, oz) whose first voxel is input voxel (x0, y0, z0) into `dst`.
 * The offsets may be negative and the box may extend past the input: voxels outside it get
 * `fill`. This covers centred crop, centred pad, crop around a box, patches and slices.
 */
export function cropPad(
  src: usize,
  nx: i32,
  ny: i32,
  nz: i32,
  dst: usize,
  ox: i32,
  oy: i32,
  oz: i32,
  x0: i32,
  y0: i32,
  z0: i32,
  fill: f32,
): void {
  const xBegin = max(0, -x0);
  const xEnd = min(ox, nx - x0);
  let out = dst;
  for (let k = 0; k < oz; k++) {
    const z = z0 + k;
    for (let j = 0; j < oy; j++) {
      const y = y0 + j;
      if (z < 0 || z >= nz || y < 0 || y >= ny || xEnd <= xBegin) {
        fillRow(out, ox, fill);
      } else {
        fillRow(out, xBegin, fill);
        const inRow = src + ((<usize>(z * ny + y) * <usize>nx + <usize>(x0 + xBegin)) << 2);
        memory.copy(out + (<usize>xBegin << 2), inRow, <usize>(xEnd - xBegin) << 2);
        fillRow(out + (<usize>xEnd << 2), ox - xEnd, fill);
      }
      out += <usize>ox << 2;
    }
  }
}

@inline
function fillRow(out: usize, count: i32, value: f32): void {
  const splat = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(out + (<usize>i << 2), splat);
  for (; i < count; i++) store<f32>(out + (<usize>i << 2), value);
}

/**
 * Writes the inclusive bounding box of the voxels where `mask` (f32) is non-zero to
 * `box` as six i32: xMin, yMin, zMin, xMax, yMax, zMax. Returns the number of non-zero voxels;
 * when it is 0 the box is left unwritten.
 */
export function maskBoundingBox(mask: usize, nx: i32, ny: i32, nz: i32, box: usize): i32 {
  let xMin = nx, yMin = ny, zMin = nz, xMax = -1, yMax = -1, zMax = -1;
  let count = 0;
  let ptr = mask;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let rowFirst = -1, rowLast = -1;
      for (let i = 0; i < nx; i++) {
        if (load<f32>(ptr + (<usize>i << 2)) != 0) {
          if (rowFirst < 0) rowFirst = i;
          rowLast = i;
          count++;
        }
      }
      ptr += <usize>nx << 2;
      if (rowFirst < 0) continue;
      xMin = min(xMin, rowFirst);
      xMax = max(xMax, rowLast);
      yMin = min(yMin, j);
      yMax = max(yMax, j);
      zMin = min(zMin, k);
      zMax = max(zMax, k);
    }
  }
  if (count == 0) return 0;
  store<i32>(box, xMin);
  store<i32>(box, yMin, 4);
  store<i32>(box, zMin, 8);
  store<i32>(box, xMax, 12);
  store<i32>(box, yMax, 16);
  store<i32>(box, zMax, 20);
  return count;
}

/**
 * Writes `count` boxes of size (ox, oy, oz) one after another into `dst`; `starts` holds their
 * first voxels as i32 triples. Used for patches and slices, so the volume is copied in once.
 */
export function extractBoxes(
  src: usize,
  nx: i32,
  ny: i32,
  nz: i32,
  dst: usize,
  ox: i32,
  oy: i32,
  oz: i32,
  starts: usize,
  count: i32,
  fill: f32,
): void {
  const boxBytes = (<usize>ox * <usize>oy * <usize>oz) << 2;
  for (let b = 0; b < count; b++) {
    const start = starts + <usize>b * 12;
    const x0 = load<i32>(start), y0 = load<i32>(start, 4), z0 = load<i32>(start, 8);
    cropPad(src, nx, ny, nz, dst + <usize>b * boxBytes, ox, oy, oz, x0, y0, z0, fill);
  }
}
