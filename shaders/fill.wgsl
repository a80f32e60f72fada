// Fills a tensor with one value: y[i] = VALUE. Clears a gradient before a kernel scatters
// into part of it (a strided slice's backward pass writes only the sliced elements).
// T is vec4f when the element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values (elements / 4 for vec4f).
const COUNT = {{COUNT}};

// Output tensor, contiguous.
@group(0) @binding(0) var<storage, read_write> y: array<T>;

// 256 threads, as the other element-wise kernels: one store per thread.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  y[i] = T({{VALUE}});
}
