// Adds the SPLITS partial weight gradients of conv_wgrad.wgsl in split order, one thread per
// weight, so the sum has the same rounding on every run.

// Partial sums: [SPLITS, COUNT].
@group(0) @binding(0) var<storage, read> partial: array<f32>;
// Weight gradient: [COUNT].
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;

const SPLITS = {{SPLITS}};
const COUNT = {{COUNT}};

// 256 threads: one value each, so the workgroup size only needs to fill the SIMD units.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  var sum = 0.0;
  for (var s = 0u; s < SPLITS; s++) {
    sum += partial[s * COUNT + i];
  }
  dw[i] = sum;
}
