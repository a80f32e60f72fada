// Source coordinates of upsampling along one axis, as PyTorch's upsample kernels compute
// them in f32: nearest takes min(floor(o * scale), size - 1); linear takes
// src = scale * o with align_corners, else max(scale * (o + 0.5) - 0.5, 0), and blends
// floor(src) and the next index (clamped to the edge) by the fraction.

struct Taps {
  i0: i32,
  i1: i32,
  l0: f32,
  l1: f32,
}

fn taps(o: i32, size_in: i32, scale: f32) -> Taps {
  if (!LINEAR) {
    let i = min(i32(floor(f32(o) * scale)), size_in - 1);
    return Taps(i, i, 1.0, 0.0);
  }
  var src = scale * f32(o);
  if (!ALIGN_CORNERS) { src = max(scale * (f32(o) + 0.5) - 0.5, 0.0); }
  let i0 = i32(src);
  let i1 = select(i0, i0 + 1, i0 < size_in - 1);
  let l1 = src - f32(i0);
  return Taps(i0, i1, 1.0 - l1, l1);
}

// Weight of input coordinate c in output o's interpolation.
fn weight_of(t: Taps, c: i32) -> f32 {
  return select(0.0, t.l0, t.i0 == c) + select(0.0, t.l1, t.i1 == c);
}
