// Mean and inverse standard deviation of each normalisation group, one workgroup per group.
// A group is BLOCKS runs of BLOCK_LEN contiguous elements, BLOCK_STRIDE apart, starting at
// group * GROUP_STRIDE: a batch-norm channel is N runs of D * H * W; a group-, instance- or
// layer-norm group is one run. Two passes over the group (mean, then squared deviations)
// avoid the cancellation of sum(x^2) - sum(x)^2, and both use fixed-order trees. T is vec4f
// when runs and strides are multiples of 4; the sizes below then count vec4 values.

alias T = {{T}};
// Elements per T.
const WIDTH = {{WIDTH}};
const GROUPS = {{GROUPS}};
const GROUP_STRIDE = {{GROUP_STRIDE}};
const BLOCKS = {{BLOCKS}};
const BLOCK_LEN = {{BLOCK_LEN}};
const BLOCK_STRIDE = {{BLOCK_STRIDE}};
const EPS = {{EPS}};
const GROUP_SIZE = BLOCKS * BLOCK_LEN;

// Input, contiguous.
@group(0) @binding(0) var<storage, read> x: array<T>;
// [mean of each group, 1 / sqrt(biased variance + eps) of each group, biased variance of
// each group]: 3 * GROUPS values.
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;

var<workgroup> part: array<f32, 256>;

// Sum of the lanes of v.
fn lanes(v: T) -> f32 {
  return {{LANES}};
}

fn offset(base: u32, k: u32) -> u32 {
  return base + (k / BLOCK_LEN) * BLOCK_STRIDE + k % BLOCK_LEN;
}

fn tree_sum(lid: u32, value: f32) -> f32 {
  part[lid] = value;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  let total = part[0];
  workgroupBarrier();
  return total;
}

// 256 threads per group: consecutive threads read consecutive elements of a run.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  // Uniform across the workgroup, so the barriers stay valid.
  let g = linear_workgroup(wid, nwg);
  if (g >= GROUPS) { return; }
  let base = g * GROUP_STRIDE;
  var total = 0.0;
  for (var k = lid; k < GROUP_SIZE; k += 256u) { total += lanes(x[offset(base, k)]); }
  let count = f32(GROUP_SIZE * WIDTH);
  let mean = tree_sum(lid, total) / count;
  var squares = 0.0;
  for (var k = lid; k < GROUP_SIZE; k += 256u) {
    let d = x[offset(base, k)] - mean;
    squares += lanes(d * d);
  }
  let variance = tree_sum(lid, squares) / count;
  if (lid == 0u) {
    stats[g] = mean;
    stats[GROUPS + g] = 1.0 / sqrt(variance + EPS);
    stats[2u * GROUPS + g] = variance;
  }
}
