// Gradient of an overlap loss with respect to the probabilities, one voxel-class value per
// thread: dp = d_inter[n, c] * g + d_pred[n, c] * (2 p when the prediction sum is squared,
// else 1), with the coefficients from overlap-loss.wgsl.

const COUNT = {{COUNT}};
const C = {{C}};
const S = {{S}};
const SQUARED = {{SQUARED}};

// Class probabilities, contiguous [N, C, S].
@group(0) @binding(0) var<storage, read> probabilities: array<f32>;
// Class index of each voxel, contiguous [N, S].
@group(0) @binding(1) var<storage, read> labels: array<i32>;
// [d loss / d intersection, d loss / d prediction sum] per (n, c).
@group(0) @binding(2) var<storage, read> coefficients: array<vec2f>;
// Gradient with respect to the probabilities, same layout.
@group(0) @binding(3) var<storage, read_write> dp: array<f32>;

// 256 threads, one value each.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let unit = i / S;
  let n = unit / C;
  let c = i32(unit % C);
  let g = select(0.0, 1.0, labels[n * S + i % S] == c);
  let k = coefficients[unit];
  let d_pred = select(k.y, 2.0 * probabilities[i] * k.y, SQUARED);
  dp[i] = k.x * g + d_pred;
}
