// Reduces a tensor over chosen axes: one workgroup per output element walks the reduced
// elements in a fixed strided order, then combines the threads' partials in a tree. The
// order depends only on the shape, so the result is the same bits on every run.

// Threads per workgroup, a power of two chosen by the planner from the reduced size.
const WG = {{WG}};
// Output element count: the product of the kept axes.
const OUTPUTS = {{OUTPUTS}};
// Elements reduced into each output: the product of the reduced axes.
const REDUCED = {{REDUCED}};
const KEPT_RANK = {{KEPT_RANK}};
const REDUCED_RANK = {{REDUCED_RANK}};

// Input tensor, contiguous.
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Output, contiguous over the kept axes in their input order.
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn combine(a: f32, b: f32) -> f32 {
  return {{COMBINE}};
}

// Input offset of reduced element r: its coordinates over the reduced axes times their strides.
fn reduced_offset(r: u32) -> u32 {
  let sizes = {{REDUCED_SIZES}};
  let strides = {{REDUCED_STRIDES}};
  var rest = r;
  var offset = 0u;
  for (var axis = REDUCED_RANK; axis > 0u; axis--) {
    offset += (rest % sizes[axis - 1u]) * strides[axis - 1u];
    rest = rest / sizes[axis - 1u];
  }
  return offset;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  // The guard is uniform across the workgroup, so the barriers below stay valid.
  let o = linear_workgroup(wid, nwg);
  if (o >= OUTPUTS) { return; }
  let kept_sizes = {{KEPT_SIZES}};
  let kept_strides = {{KEPT_STRIDES}};
  var rest = o;
  var base = 0u;
  for (var axis = KEPT_RANK; axis > 0u; axis--) {
    base += (rest % kept_sizes[axis - 1u]) * kept_strides[axis - 1u];
    rest = rest / kept_sizes[axis - 1u];
  }

  var acc = {{IDENTITY}};
  for (var r = lid; r < REDUCED; r += WG) {
    acc = combine(acc, x[base + reduced_offset(r)]);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (lid < half) {
      partial[lid] = combine(partial[lid], partial[lid + half]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let total = partial[0];
    y[o] = {{FINISH}};
  }
}
