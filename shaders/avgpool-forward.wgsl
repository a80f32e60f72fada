// Average pooling, plain or adaptive, over [planes, D, H, W] (planes = N * C; 1D and 2D
// pooling have unit D and H). Window arithmetic is in avgpool-common.wgsl.

const COUNT = {{COUNT}};
const ID = {{ID}}; const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};
const KD = {{KD}}; const KH = {{KH}}; const KW = {{KW}};
const SD = {{SD}}; const SH = {{SH}}; const SW = {{SW}};
// Padding before (P) and after (Q) each axis.
const PD = {{PD}}; const PH = {{PH}}; const PW = {{PW}};
const QD = {{QD}}; const QH = {{QH}}; const QW = {{QW}};
const ADAPTIVE = {{ADAPTIVE}};
const COUNT_INCLUDE_PAD = {{COUNT_INCLUDE_PAD}};
// PyTorch's divisor_override, or 0 for none.
const DIVISOR_OVERRIDE = {{DIVISOR_OVERRIDE}};

// Input, contiguous [planes, ID, IH, IW].
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Output, contiguous [planes, OD, OH, OW].
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

// 256 threads, one output each.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let wd = window_d(i32((i / u32(OW * OH)) % u32(OD)));
  let wh = window_h(i32((i / u32(OW)) % u32(OH)));
  let ww = window_w(i32(i % u32(OW)));
  let base = (i / u32(OW * OH * OD)) * u32(ID * IH * IW);

  var total = 0.0;
  for (var d = wd.x; d < wd.y; d++) {
    for (var h = wh.x; h < wh.y; h++) {
      for (var w = ww.x; w < ww.y; w++) {
        total += x[base + u32((d * IH + h) * IW + w)];
      }
    }
  }
  y[i] = total / divisor(wd, wh, ww);
}
