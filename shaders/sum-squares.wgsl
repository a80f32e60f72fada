// First pass of a gradient's squared L2 norm: workgroup k sums the squares of elements
// [k * CHUNK, (k + 1) * CHUNK) with a fixed-order tree and writes partials[OFFSET + k].
// The second pass (clip-norm-factor.wgsl) adds the partials of every gradient in order, so
// the norm is the same bits on every run.

const COUNT = {{COUNT}};
// Elements per workgroup: 256 threads times 16 each.
const CHUNK = 4096u;
// First slot of this tensor's partials in the shared partials buffer.
const OFFSET = {{OFFSET}};

// Gradient, contiguous.
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Partial sums of every gradient being clipped together.
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;

var<workgroup> part: array<f32, 256>;

// 256 threads: each sums 16 strided elements, so loads stay coalesced.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = linear_workgroup(wid, nwg);
  if (k * CHUNK >= COUNT) { return; }
  var total = 0.0;
  for (var j = 0u; j < 16u; j++) {
    let i = k * CHUNK + j * 256u + lid;
    if (i < COUNT) { total += x[i] * x[i]; }
  }
  part[lid] = total;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[OFFSET + k] = part[0]; }
}
