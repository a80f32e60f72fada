// Overlap sums of the segmentation losses (Dice, generalized Dice, Tversky), one workgroup
// per (sample, class) pair: over the voxels s of sample n, with p = probabilities[n, c, s] and
// g = 1 where labels[n, s] == c, the sums of p * g, p, p * p and g, in fixed-order trees.

const UNITS = {{UNITS}};
const C = {{C}};
const S = {{S}};

// Class probabilities (after softmax or sigmoid), contiguous [N, C, S].
@group(0) @binding(0) var<storage, read> probabilities: array<f32>;
// Class index of each voxel, contiguous [N, S].
@group(0) @binding(1) var<storage, read> labels: array<i32>;
// [intersection, prediction sum, squared prediction sum, ground-truth sum] per (n, c):
// 4 * N * C values.
@group(0) @binding(2) var<storage, read_write> sums: array<vec4f>;

var<workgroup> part: array<vec4f, 256>;

// 256 threads per (n, c): consecutive threads read consecutive voxels.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let unit = linear_workgroup(wid, nwg);
  if (unit >= UNITS) { return; }
  let n = unit / C;
  let c = i32(unit % C);
  var total = vec4f(0.0);
  for (var s = lid; s < S; s += 256u) {
    let p = probabilities[unit * S + s];
    let g = select(0.0, 1.0, labels[n * S + s] == c);
    total += vec4f(p * g, p, p * p, g);
  }
  part[lid] = total;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) { sums[unit] = part[0]; }
}
