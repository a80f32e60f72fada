// Intensity statistics and point-wise maps on f32 buffers of n voxels. A mask is an f32
// buffer of the same length where non-zero marks a voxel as inside; a mask pointer of 0 means
// every voxel. Sums accumulate in f64 lanes so that millions of voxels keep their precision.

/** Returns the number of NaN or infinite voxels. */
export function countNonFinite(src: usize, n: i32): i32 {
  const zero = f32x4.splat(0), one = i32x4.splat(1);
  let lanes = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const values = v128.load(src + (<usize>i << 2));
    // x - x is 0 for a finite x and NaN for an infinite or NaN one.
    lanes = i32x4.add(lanes, v128.andnot(one, f32x4.eq(f32x4.sub(values, values), zero)));
  }
  let count = laneSum(lanes);
  for (; i < n; i++) {
    if (!isFinite(load<f32>(src + (<usize>i << 2)))) count++;
  }
  return count;
}

/**
 * Writes six f64 to `out`: the count, sum, minimum and maximum of the masked voxels, the number
 * of NaN or infinite voxels anywhere, and 0. One pass, four voxels per step.
 */
export function maskedStatistics(src: usize, mask: usize, n: i32, out: usize): void {
  const zero = f32x4.splat(0), one = i32x4.splat(1);
  let sumLow = f64x2.splat(0), sumHigh = f64x2.splat(0);
  let low = f32x4.splat(Infinity), high = f32x4.splat(-Infinity);
  let countLanes = i32x4.splat(0), nonFiniteLanes = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const values = v128.load(src + (<usize>i << 2));
    // x - x is 0 for a finite x and NaN for an infinite or NaN one.
    const finite = f32x4.eq(f32x4.sub(values, values), zero);
    nonFiniteLanes = i32x4.add(nonFiniteLanes, v128.andnot(one, finite));
    const inside = mask ? f32x4.ne(v128.load(mask + (<usize>i << 2)), zero) : i32x4.splat(-1);
    const kept = v128.and(values, inside);
    countLanes = i32x4.add(countLanes, v128.and(inside, one));
    sumLow = f64x2.add(sumLow, f64x2.promote_low_f32x4(kept));
    sumHigh = f64x2.add(sumHigh, f64x2.promote_low_f32x4(i32x4.shuffle(kept, kept, 2, 3, 0, 1)));
    low = f32x4.min(low, v128.bitselect(values, f32x4.splat(Infinity), inside));
    high = f32x4.max(high, v128.bitselect(values, f32x4.splat(-Infinity), inside));
  }

  let sum = f64x2.extract_lane(sumLow, 0) + f64x2.extract_lane(sumLow, 1);
  sum += f64x2.extract_lane(sumHigh, 0) + f64x2.extract_lane(sumHigh, 1);
  let count = laneSum(countLanes);
  let nonFinite = laneSum(nonFiniteLanes);
  let lowest = min(
    min(f32x4.extract_lane(low, 0), f32x4.extract_lane(low, 1)),
    min(f32x4.extract_lane(low, 2), f32x4.extract_lane(low, 3)),
  );
  let highest = max(
    max(f32x4.extract_lane(high, 0), f32x4.extract_lane(high, 1)),
    max(f32x4.extract_lane(high, 2), f32x4.extract_lane(high, 3)),
  );

  // The scalar tail, fewer than four voxels.
  for (; i < n; i++) {
    const value = load<f32>(src + (<usize>i << 2));
    if (!isFinite(value)) nonFinite++;
    if (mask && load<f32>(mask + (<usize>i << 2)) == 0) continue;
    sum += <f64>value;
    lowest = min(lowest, value);
    highest = max(highest, value);
    count++;
  }

  store<f64>(out, <f64>count);
  store<f64>(out, sum, 8);
  store<f64>(out, <f64>lowest, 16);
  store<f64>(out, <f64>highest, 24);
  store<f64>(out, <f64>nonFinite, 32);
  store<f64>(out, 0, 40);
}

/** Returns the sum of (x - mean)^2 over the masked voxels. */
export function maskedSquaredDeviation(src: usize, mask: usize, n: i32, mean: f64): f64 {
  const meanLanes = f64x2.splat(mean);
  let accLow = f64x2.splat(0), accHigh = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const values = v128.load(src + (<usize>i << 2));
    let low = f64x2.sub(f64x2.promote_low_f32x4(values), meanLanes);
    let high = f64x2.sub(
      f64x2.promote_low_f32x4(i32x4.shuffle(values, values, 2, 3, 0, 1)),
      meanLanes,
    );
    if (mask) {
      const inside = f32x4.ne(v128.load(mask + (<usize>i << 2)), f32x4.splat(0));
      low = v128.and(low, i64x2.extend_low_i32x4_s(inside));
      high = v128.and(high, i64x2.extend_high_i32x4_s(inside));
    }
    accLow = f64x2.add(accLow, f64x2.mul(low, low));
    accHigh = f64x2.add(accHigh, f64x2.mul(high, high));
  }
  let total = f64x2.extract_lane(accLow, 0) + f64x2.extract_lane(accLow, 1);
  total += f64x2.extract_lane(accHigh, 0) + f64x2.extract_lane(accHigh, 1);
  for (; i < n; i++) {
    if (mask && load<f32>(mask + (<usize>i << 2)) == 0) continue;
    const deviation = <f64>load<f32>(src + (<usize>i << 2)) - mean;
    total += deviation * deviation;
  }
  return total;
}

/** dst = (src - offset) * scale, element-wise; src and dst may be the same buffer. */
export function subtractScale(src: usize, dst: usize, n: i32, offset: f32, scale: f32): void {
  const offsetLanes = f32x4.splat(offset),
    scaleLanes = f32x4.splat(scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(dst + at, f32x4.mul(f32x4.sub(v128.load(src + at), offsetLanes), scaleLanes));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(dst + at, (load<f32>(src + at) - offset) * scale);
  }
}

/** dst = min(max(src, low), high), element-wise. */
export function clamp(src: usize, dst: usize, n: i32, low: f32, high: f32): void {
  const lowLanes = f32x4.splat(low), highLanes = f32x4.splat(high);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const offset = <usize>i << 2;
    v128.store(dst + offset, f32x4.min(f32x4.max(v128.load(src + offset), lowLanes), highLanes));
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    store<f32>(dst + offset, min(max(load<f32>(src + offset), low), high));
  }
}

/** Copies the masked voxels of `src` to the front of `dst` and returns how many there are. */
export function gatherMasked(src: usize, mask: usize, n: i32, dst: usize): i32 {
  let count = 0;
  for (let i = 0; i < n; i++) {
    const offset = <usize>i << 2;
    if (load<f32>(mask + offset) == 0) continue;
    store<f32>(dst + (<usize>count << 2), load<f32>(src + offset));
    count++;
  }
  return count;
}

/**
 * Returns the q-quantile (0 <= q <= 1) of the n finite values in `scratch`, interpolated
 * linearly between the two nearest ranks (numpy's default 'linear' method). Reorders `scratch`.
 */
export function quantile(scratch: usize, n: i32, q: f64): f64 {
  const rank = q * <f64>(n - 1);
  const lower = <i32>Math.floor(rank);
  const lowValue = <f64>selectInPlace(scratch, n, lower);
  const fraction = rank - <f64>lower;
  if (fraction == 0 || lower + 1 >= n) return lowValue;
  // After selection every value right of `lower` is >= the lower value, so the next rank is
  // their minimum.
  let next = Infinity;
  for (let i = lower + 1; i < n; i++) next = min(next, <f64>load<f32>(scratch + (<usize>i << 2)));
  return lowValue + (next - lowValue) * fraction;
}

/** Hoare's quickselect with a median-of-three pivot: returns the k-th smallest value. */
function selectInPlace(buf: usize, n: i32, k: i32): f32 {
  let lo = 0, hi = n - 1;
  while (hi > lo) {
    const mid = lo + ((hi - lo) >> 1);
    if (at(buf, mid) < at(buf, lo)) swap(buf, mid, lo);
    if (at(buf, hi) < at(buf, lo)) swap(buf, hi, lo);
    if (at(buf, hi) < at(buf, mid)) swap(buf, hi, mid);
    const pivot = at(buf, mid);
    let i = lo, j = hi;
    while (i <= j) {
      while (at(buf, i) < pivot) i++;
      while (at(buf, j) > pivot) j--;
      if (i <= j) {
        swap(buf, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return at(buf, k);
}

@inline
function at(buf: usize, index: i32): f32 {
  return load<f32>(buf + (<usize>index << 2));
}

@inline
function swap(buf: usize, a: i32, b: i32): void {
  const pa = buf + (<usize>a << 2), pb = buf + (<usize>b << 2);
  const value = load<f32>(pa);
  store<f32>(pa, load<f32>(pb));
  store<f32>(pb, value);
}

@inline
function laneSum(lanes: v128): i32 {
  return i32x4.extract_lane(lanes, 0) + i32x4.extract_lane(lanes, 1) + i32x4.extract_lane(lanes, 2) + i32x4.extract_lane(lanes, 3);
}
