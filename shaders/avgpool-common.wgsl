// Window arithmetic shared by the average-pooling kernels, on the constants the including
// kernel declares. Plain windows follow PyTorch's avg_pool3d: start = o * stride - padding,
// end = min(start + kernel, size + padding after), then both are clipped to the input; the
// window size before clipping is the divisor when padding counts. Adaptive windows cover
// [floor(o * in / out), ceil((o + 1) * in / out)).

// (clipped start, clipped end, window size counting padding) along one axis.
fn window(o: i32, size_in: i32, size_out: i32, k: i32, s: i32, pad: i32, pad_after: i32) -> vec3i {
  if (ADAPTIVE) {
    let start = (o * size_in) / size_out;
    let end = ((o + 1) * size_in + size_out - 1) / size_out;
    return vec3i(start, end, end - start);
  }
  let start = o * s - pad;
  let end = min(start + k, size_in + pad_after);
  return vec3i(max(start, 0), min(end, size_in), end - start);
}

fn window_d(o: i32) -> vec3i { return window(o, ID, OD, KD, SD, PD, QD); }
fn window_h(o: i32) -> vec3i { return window(o, IH, OH, KH, SH, PH, QH); }
fn window_w(o: i32) -> vec3i { return window(o, IW, OW, KW, SW, PW, QW); }

fn divisor(d: vec3i, h: vec3i, w: vec3i) -> f32 {
  if (DIVISOR_OVERRIDE > 0.0) { return DIVISOR_OVERRIDE; }
  if (COUNT_INCLUDE_PAD) { return f32(d.z * h.z * w.z); }
  return f32((d.y - d.x) * (h.y - h.x) * (w.y - w.x));
}

// First and last output whose window may contain input coordinate c (membership still needs
// a check against the window).
fn candidates(c: i32, size_in: i32, size_out: i32, k: i32, s: i32, pad: i32) -> vec2i {
  if (ADAPTIVE) {
    let first = max(0, (c * size_out) / size_in - 1);
    return vec2i(first, min(size_out - 1, ((c + 1) * size_out) / size_in + 1));
  }
  let low = select((c + pad - k) / s, 0, c + pad - k < 0);
  return vec2i(low, min(size_out - 1, (c + pad) / s));
}
