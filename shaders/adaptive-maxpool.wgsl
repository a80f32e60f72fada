// Adaptive max pooling of [planes, D, H, W] (planes = N * C; 1D and 2D have unit D and H):
// output o along an axis covers inputs [floor(o * in / out), ceil((o + 1) * in / out)), as
// PyTorch's adaptive_max_pool. Like maxpool-forward.wgsl it writes each window's maximum and
// its argmax as a flat index into the input plane; ties keep the first and NaN wins.

const COUNT = {{COUNT}};
const ID = {{ID}}; const IH = {{IH}}; const IW = {{IW}};
const OD = {{OD}}; const OH = {{OH}}; const OW = {{OW}};

// Input, contiguous [planes, ID, IH, IW].
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Output maxima, contiguous [planes, OD, OH, OW].
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
// Argmax of each output, as a flat index into its input plane.
@group(0) @binding(2) var<storage, read_write> argmax: array<u32>;

fn window(o: i32, size_in: i32, size_out: i32) -> vec2i {
  return vec2i((o * size_in) / size_out, ((o + 1) * size_in + size_out - 1) / size_out);
}

// 256 threads, one output each.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let wd = window(i32((i / u32(OW * OH)) % u32(OD)), ID, OD);
  let wh = window(i32((i / u32(OW)) % u32(OH)), IH, OH);
  let ww = window(i32(i % u32(OW)), IW, OW);
  let base = (i / u32(OW * OH * OD)) * u32(ID * IH * IW);
  var best = 0.0;
  var best_index = 0u;
  var found = false;
  for (var d = wd.x; d < wd.y; d++) {
    for (var h = wh.x; h < wh.y; h++) {
      for (var w = ww.x; w < ww.y; w++) {
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
  argmax[i] = best_index;
}
