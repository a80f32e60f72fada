// Applies an element-wise expression of one tensor: y[i] = EXPR(x0), with x0 = in0[i].
// T is vec4f when the element count is a multiple of 4 (one 16-byte load and store per
// thread), else f32.

alias T = {{T}};
// Number of T values (elements / 4 for vec4f).
const COUNT = {{COUNT}};

// Input tensor, contiguous.
@group(0) @binding(0) var<storage, read> in0: array<T>;
// Output tensor, same shape and layout as in0.
@group(0) @binding(1) var<storage, read_write> y: array<T>;

// 256 threads: a multiple of every vendor's SIMD width, and few enough workgroups that the
// dispatch stays small; the work per thread is one value, so occupancy matters more.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let x0 = in0[i];
  y[i] = {{EXPR}};
}
