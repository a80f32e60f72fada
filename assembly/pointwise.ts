// Point-wise maps used by augmentation and by the atrophy operator of the synthetic data.

/**
 * dst = low + range * t^gamma with t = (src - low) / range clamped to [0, 1]: a gamma curve on
 * the intensity range [low, low + range]. `range` must be positive.
 */
export function gammaMap(src: usize, dst: usize, n: i32, low: f32, range: f32, gamma: f32): void {
  const inverseRange: f32 = 1.0 / range;
  for (let i = 0; i < n; i++) {
    const offset = <usize>i << 2;
    const t = min(max((load<f32>(src + offset) - low) * inverseRange, 0), 1);
    store<f32>(dst + offset, low + range * Mathf.pow(t, gamma));
  }
}

/** Writes 1 where `labels` equals one of the `valueCount` f32 `values`, else 0. */
export function labelMask(labels: usize, n: i32, values: usize, valueCount: i32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    const offset = <usize>i << 2;
    const label = load<f32>(labels + offset);
    let hit: f32 = 0;
    for (let v = 0; v < valueCount; v++) {
      if (label == load<f32>(values + (<usize>v << 2))) {
        hit = 1;
        break;
      }
    }
    store<f32>(dst + offset, hit);
  }
}

/** dst = src * (1 - factor * weight): lowers the intensity where the smooth weight is high. */
export function attenuate(src: usize, weight: usize, dst: usize, n: i32, factor: f32): void {
  const one = f32x4.splat(1), factorLanes = f32x4.splat(factor);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const offset = <usize>i << 2;
    const scale = f32x4.sub(one, f32x4.mul(factorLanes, v128.load(weight + offset)));
    v128.store(dst + offset, f32x4.mul(v128.load(src + offset), scale));
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    store<f32>(dst + offset, load<f32>(src + offset) * (1 - factor * load<f32>(weight + offset)));
  }
}
