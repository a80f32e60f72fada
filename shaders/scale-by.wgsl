// Multiplies a tensor in place by a factor another kernel computed on the GPU (the clip
// factor of clipping by global norm), so the host never waits for it. T is vec4f when the
// element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values.
const COUNT = {{COUNT}};
// Index of the factor in `factors`.
const FACTOR_INDEX = {{FACTOR_INDEX}};

// Tensor scaled in place.
@group(0) @binding(0) var<storage, read_write> y: array<T>;
// Buffer holding the factor.
@group(0) @binding(1) var<storage, read> factors: array<f32>;

// 256 threads, one value each, as in map1.wgsl.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  y[i] = y[i] * factors[FACTOR_INDEX];
}
