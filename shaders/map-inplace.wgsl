// Updates a tensor in place: y[i] = EXPR(acc) with acc = y[i], as clipping by value needs.
// T is vec4f when the element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values.
const COUNT = {{COUNT}};

// Tensor updated in place.
@group(0) @binding(0) var<storage, read_write> y: array<T>;

// 256 threads, one value each, as in map1.wgsl.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let acc = y[i];
  y[i] = {{EXPR}};
}
