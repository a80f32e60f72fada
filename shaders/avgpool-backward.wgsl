// Input gradient of average pooling, plain or adaptive, in gather form: each thread owns one
// input element and sums dy / divisor over the windows that contain it, in a fixed order
// and without atomics.

const COUNT = {{COUNT}};
const ID = {{ID}}; const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};
const KD = {{KD}}; const KH = {{KH}}; const KW = {{KW}};
const SD = {{SD}}; const SH = {{SH}}; const SW = {{SW}};
const PD = {{PD}}; const PH = {{PH}}; const PW = {{PW}};
const QD = {{QD}}; const QH = {{QH}}; const QW = {{QW}};
const ADAPTIVE = {{ADAPTIVE}};
const COUNT_INCLUDE_PAD = {{COUNT_INCLUDE_PAD}};
const DIVISOR_OVERRIDE = {{DIVISOR_OVERRIDE}};

// Output gradient, contiguous [planes, OD, OH, OW].
@group(0) @binding(0) var<storage, read> dy: array<f32>;
// Input gradient, contiguous [planes, ID, IH, IW].
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;

fn contains(range: vec3i, c: i32) -> bool { return c >= range.x && c < range.y; }

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
  let rd = candidates(d, ID, OD, KD, SD, PD);
  let rh = candidates(h, IH, OH, KH, SH, PH);
  let rw = candidates(w, IW, OW, KW, SW, PW);

  var total = 0.0;
  for (var od = rd.x; od <= rd.y; od++) {
    let wd = window_d(od);
    if (!contains(wd, d)) { continue; }
    for (var oh = rh.x; oh <= rh.y; oh++) {
      let wh = window_h(oh);
      if (!contains(wh, h)) { continue; }
      for (var ow = rw.x; ow <= rw.y; ow++) {
        let ww = window_w(ow);
        if (!contains(ww, w)) { continue; }
        total += dy[out_base + u32((od * OH + oh) * OW + ow)] / divisor(wd, wh, ww);
      }
    }
  }
  dx[i] = total;
}
