// Adds the SPLITS partial weight gradients of conv_wgrad.wgsl in split order, one thread per
// weight, so the sum has the same rounding on every run. A split op (split.ts) also sums the
// partials of each run of samples here, writing from OUT_BASE on and adding to what earlier
// runs wrote (ACCUMULATE), so the runs' sums are added in run order.

// Partial sums: value s of element i at s * SPLIT_STRIDE + i * ELEMENT_STRIDE.
@group(0) @binding(0) var<storage, read> partial: array<f32>;
// Weight gradient: elements [OUT_BASE, OUT_BASE + COUNT) are written.
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;

const SPLITS = {{SPLITS}};
const COUNT = {{COUNT}};
const SPLIT_STRIDE = {{SPLIT_STRIDE}};
const ELEMENT_STRIDE = {{ELEMENT_STRIDE}};
const OUT_BASE = {{OUT_BASE}};
// Adds the sum to dw's value instead of overwriting it.
const ACCUMULATE = {{ACCUMULATE}};

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
    sum += partial[s * SPLIT_STRIDE + i * ELEMENT_STRIDE];
  }
  if (ACCUMULATE) {
    dw[OUT_BASE + i] = dw[OUT_BASE + i] + sum;
  } else {
    dw[OUT_BASE + i] = sum;
  }
}
