// Separable convolution along one axis of an x-fastest volume, for Gaussian smoothing. The
// host passes the 2 * radius + 1 normalised weights. Borders follow scipy.ndimage's mode
// 'reflect' (d c b a | a b c d | d c b a), so the result matches gaussian_filter. Every axis
// is vectorised over x: rows are contiguous, so four neighbouring outputs share each weight.

/**
 * Convolves `src` along `axis` (0 = x, 1 = y, 2 = z) with `weights` into `dst`, which must not
 * overlap `src`. `scratch` holds nx + 2 * radius f32 and is used for the x axis only.
 */
export function convolveAxis(
  src: usize,
  dst: usize,
  nx: i32,
  ny: i32,
  nz: i32,
  axis: i32,
  weights: usize,
  radius: i32,
  scratch: usize,
): void {
  if (axis == 0) {
    convolveRows(src, dst, nx, ny * nz, weights, radius, scratch);
    return;
  }
  const lineStride = axis == 1 ? <usize>nx : <usize>nx * <usize>ny;
  const length = axis == 1 ? ny : nz;
  const outerCount = axis == 1 ? nz : 1;
  const innerCount = axis == 1 ? 1 : ny;
  for (let outer = 0; outer < outerCount; outer++) {
    for (let inner = 0; inner < innerCount; inner++) {
      // For axis 1 a line base is a z plane; for axis 2 it is a y row of plane 0.
      const base = axis == 1 ? <usize>outer * <usize>nx * <usize>ny : <usize>inner * <usize>nx;
      for (let position = 0; position < length; position++) {
        const out = dst + ((base + <usize>position * lineStride) << 2);
        convolveAcrossRows(src, base, lineStride, length, position, nx, weights, radius, out);
      }
    }
  }
}

/** Writes one output row: the weighted sum of the input rows around `position` on the axis. */
function convolveAcrossRows(
  src: usize,
  base: usize,
  lineStride: usize,
  length: i32,
  position: i32,
  nx: i32,
  weights: usize,
  radius: i32,
  out: usize,
): void {
  let x = 0;
  for (; x + 4 <= nx; x += 4) {
    let acc = f32x4.splat(0);
    for (let k = -radius; k <= radius; k++) {
      const row = base + <usize>reflect(position + k, length) * lineStride;
      const weight = f32x4.splat(load<f32>(weights + (<usize>(k + radius) << 2)));
      acc = f32x4.add(acc, f32x4.mul(weight, v128.load(src + ((row + <usize>x) << 2))));
    }
    v128.store(out + (<usize>x << 2), acc);
  }
  for (; x < nx; x++) {
    let acc: f32 = 0;
    for (let k = -radius; k <= radius; k++) {
      const row = base + <usize>reflect(position + k, length) * lineStride;
      acc += load<f32>(weights + (<usize>(k + radius) << 2)) * load<f32>(src + ((row + <usize>x) << 2));
    }
    store<f32>(out + (<usize>x << 2), acc);
  }
}

/** Convolves each of `rowCount` contiguous rows of length nx along x. */
function convolveRows(
  src: usize,
  dst: usize,
  nx: i32,
  rowCount: i32,
  weights: usize,
  radius: i32,
  scratch: usize,
): void {
  const padded = nx + 2 * radius;
  for (let r = 0; r < rowCount; r++) {
    const row = src + ((<usize>r * <usize>nx) << 2);
    const out = dst + ((<usize>r * <usize>nx) << 2);
    for (let p = 0; p < padded; p++) {
      store<f32>(scratch + (<usize>p << 2), load<f32>(row + (<usize>reflect(p - radius, nx) << 2)));
    }
    let x = 0;
    for (; x + 4 <= nx; x += 4) {
      let acc = f32x4.splat(0);
      for (let k = 0; k <= 2 * radius; k++) {
        const weight = f32x4.splat(load<f32>(weights + (<usize>k << 2)));
        acc = f32x4.add(acc, f32x4.mul(weight, v128.load(scratch + (<usize>(x + k) << 2))));
      }
      v128.store(out + (<usize>x << 2), acc);
    }
    for (; x < nx; x++) {
      let acc: f32 = 0;
      for (let k = 0; k <= 2 * radius; k++) {
        acc += load<f32>(weights + (<usize>k << 2)) * load<f32>(scratch + (<usize>(x + k) << 2));
      }
      store<f32>(out + (<usize>x << 2), acc);
    }
  }
}

/** Maps any index onto [0, n) by half-sample symmetric reflection (period 2n). */
@inline
function reflect(index: i32, n: i32): i32 {
  const period = 2 * n;
  let p = index % period;
  if (p < 0) p += period;
  return p < n ? p : period - 1 - p;
}
