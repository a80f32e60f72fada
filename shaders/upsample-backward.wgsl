// Input gradient of upsampling in gather form: each thread owns one input element and sums
// dy times its interpolation weight over the outputs that read it, so no atomics are needed.
// Candidate outputs along an axis lie within a few steps of c / scale.

const COUNT = {{COUNT}};
const ID = {{ID}}; const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};
const SCALE_D = {{SCALE_D}}; const SCALE_H = {{SCALE_H}}; const SCALE_W = {{SCALE_W}};
const LINEAR = {{LINEAR}};
const ALIGN_CORNERS = {{ALIGN_CORNERS}};

// Output gradient, contiguous [planes, OD, OH, OW].
@group(0) @binding(0) var<storage, read> dy: array<f32>;
// Input gradient, contiguous [planes, ID, IH, IW].
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;

// First and last output that may read input coordinate c.
fn candidates(c: i32, size_out: i32, scale: f32) -> vec2i {
  // Scale 0 (align_corners onto one output): every output reads coordinate 0.
  if (scale <= 0.0) { return vec2i(0, size_out - 1); }
  let low = i32(floor(f32(c - 1) / scale)) - 2;
  let high = i32(ceil(f32(c + 2) / scale)) + 2;
  return vec2i(max(low, 0), min(high, size_out - 1));
}

// 256 threads, one input element each.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let w = i32(i % u32(IW));
  let h = i32((i / u32(IW)) % u32(IH));
  let d = i32((i / u32(IW * IH)) % u32(ID));
  let out_base = (i / u32(IW * IH * ID)) * u32(OD * OH * OW);
  let rd = candidates(d, OD, SCALE_D);
  let rh = candidates(h, OH, SCALE_H);
  let rw = candidates(w, OW, SCALE_W);
  var total = 0.0;
  for (var od = rd.x; od <= rd.y; od++) {
    let wd = weight_of(taps(od, ID, SCALE_D), d);
    if (wd == 0.0) { continue; }
    for (var oh = rh.x; oh <= rh.y; oh++) {
      let wh = weight_of(taps(oh, IH, SCALE_H), h);
      if (wh == 0.0) { continue; }
      for (var ow = rw.x; ow <= rw.y; ow++) {
        let ww = weight_of(taps(ow, IW, SCALE_W), w);
        if (ww == 0.0) { continue; }
        total += wd * wh * ww * dy[out_base + u32((od * OH + oh) * OW + ow)];
      }
    }
  }
  dx[i] = total;
}
