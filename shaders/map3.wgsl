// Applies an element-wise expression of three tensors of the same shape:
// y[i] = EXPR(x0, x1, x2). T is vec4f when the element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values (elements / 4 for vec4f).
const COUNT = {{COUNT}};

// First operand, contiguous.
@group(0) @binding(0) var<storage, read> in0: array<T>;
// Second operand, same shape as in0.
@group(0) @binding(1) var<storage, read> in1: array<T>;
// Third operand, same shape as in0.
@group(0) @binding(2) var<storage, read> in2: array<T>;
// Output, same shape as in0.
@group(0) @binding(3) var<storage, read_write> y: array<T>;

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
  let x1 = in1[i];
  let x2 = in2[i];
  y[i] = {{EXPR}};
}
