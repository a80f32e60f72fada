// Max pooling over [planes, D, H, W] (planes = N * C; 1D and 2D pooling have unit D and H).
// Writes each window's maximum and its argmax, the flat index into the input's D * H * W
// plane that the backward pass compares against. Ties keep the first tap in D, H, W order
// and NaN wins, as PyTorch does.
// With RELU_MASK the input is a relu's output and the backward pass applies relu's gradient
// too: a window whose maximum is not > 0 (NaN included) gets the argmax NO_GRADIENT, which
// matches no input, so the window passes no gradient. The maximum is the relu output at the
// argmax, so this is the mask relu's gradient would apply there.

const COUNT = {{COUNT}};
const ID = {{ID}}; const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};
const KD = {{KD}}; const KH = {{KH}}; const KW = {{KW}};
const SD = {{SD}}; const SH = {{SH}}; const SW = {{SW}};
// Padding before each axis; windows start at o * stride - padding.
const PD = {{PD}}; const PH = {{PH}}; const PW = {{PW}};
const DD = {{DD}}; const DH = {{DH}}; const DW = {{DW}};
const RELU_MASK = {{RELU_MASK}};
const NO_GRADIENT = 0xffffffffu;

// Input, contiguous [planes, ID, IH, IW].
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Output maxima, contiguous [planes, OD, OH, OW].
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
// Argmax of each output, as a flat index into its input plane.
@group(0) @binding(2) var<storage, read_write> argmax: array<u32>;

// 256 threads, one output each: windows are small and the loads of neighbours overlap in cache.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let ow = i32(i % u32(OW));
  let oh = i32((i / u32(OW)) % u32(OH));
  let od = i32((i / u32(OW * OH)) % u32(OD));
  let plane = i / u32(OW * OH * OD);
  let base = plane * u32(ID * IH * IW);

  var best = 0.0;
  var best_index = 0u;
  var found = false;
  for (var kd = 0i; kd < KD; kd++) {
    let d = od * SD - PD + kd * DD;
    if (d < 0 || d >= ID) { continue; }
    for (var kh = 0i; kh < KH; kh++) {
      let h = oh * SH - PH + kh * DH;
      if (h < 0 || h >= IH) { continue; }
      for (var kw = 0i; kw < KW; kw++) {
        let w = ow * SW - PW + kw * DW;
        if (w < 0 || w >= IW) { continue; }
        let index = u32((d * IH + h) * IW + w);
        let value = x[base + index];
        if (!found || value > best || value != value) {
          best = value;
          best_index = index;
          found = true;
        }
      }
    }
  }
  y[i] = best;
  argmax[i] = select(best_index, NO_GRADIENT, RELU_MASK && !(best > 0.0));
}
