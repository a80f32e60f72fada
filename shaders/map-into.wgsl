// Updates a tensor in place from another of the same size: y[i] = EXPR(x0, acc) with
// x0 = in0[i] and acc = y[i], as gradient accumulation (acc + x0) needs. T is vec4f when the
// element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values.
const COUNT = {{COUNT}};

// Input, contiguous.
@group(0) @binding(0) var<storage, read> in0: array<T>;
// Tensor updated in place, same size as in0.
@group(0) @binding(1) var<storage, read_write> y: array<T>;

// 256 threads, one value each, as in map1.wgsl.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let x0 = in0[i];
  let acc = y[i];
  y[i] = {{EXPR}};
}
