// Nearest or (bi/tri)linear upsampling of [planes, D, H, W] (planes = N * C; 1D and 2D have
// unit D and H), one output per thread. Source coordinates are in upsample-common.wgsl.

const COUNT = {{COUNT}};
const ID = {{ID}}; const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};
// Output-to-input coordinate scale per axis.
const SCALE_D = {{SCALE_D}}; const SCALE_H = {{SCALE_H}}; const SCALE_W = {{SCALE_W}};
const LINEAR = {{LINEAR}};
const ALIGN_CORNERS = {{ALIGN_CORNERS}};

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
  let td = taps(i32((i / u32(OW * OH)) % u32(OD)), ID, SCALE_D);
  let th = taps(i32((i / u32(OW)) % u32(OH)), IH, SCALE_H);
  let tw = taps(i32(i % u32(OW)), IW, SCALE_W);
  let base = (i / u32(OW * OH * OD)) * u32(ID * IH * IW);
  let ds = array<i32, 2>(td.i0, td.i1);
  let dl = array<f32, 2>(td.l0, td.l1);
  let hs = array<i32, 2>(th.i0, th.i1);
  let hl = array<f32, 2>(th.l0, th.l1);
  let ws = array<i32, 2>(tw.i0, tw.i1);
  let wl = array<f32, 2>(tw.l0, tw.l1);
  var total = 0.0;
  for (var a = 0; a < 2; a++) {
    for (var b = 0; b < 2; b++) {
      for (var c = 0; c < 2; c++) {
        let weight = dl[a] * hl[b] * wl[c];
        if (weight != 0.0) {
          total += weight * x[base + u32((ds[a] * IH + hs[b]) * IW + ws[c])];
        }
      }
    }
  }
  y[i] = total;
}
