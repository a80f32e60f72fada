// Reduces a tensor over chosen axes: one workgroup per output element walks the reduced
// elements in a fixed strided order, then combines the threads' partials in a tree. The
// order depends only on the shape, so the result is the same bits on every run.

// Threads per workgroup, a power of two chosen by the planner from the reduced size.
const WG = {{WG}};
// Output element count: the product of the kept axes.
const OUTPUTS = {{OUTPUTS}};
// First input element read (a split reduction's last part of a window).
const IN_BASE = {{IN_BASE}};
// First output element written (partial results of a split reduction share one scratch).
const OUT_BASE = {{OUT_BASE}};
// Elements reduced into each output: the product of the reduced axes.
const REDUCED = {{REDUCED}};
// Sizes and input strides of the kept and of the reduced axes, each padded to 6 axes with
// leading size-1 axes. The code indexes them with literals, so every division is by a
// constant the compiler turns into a multiply.
const KEPT_SIZES = {{KEPT_SIZES}};
const KEPT_STRIDES = {{KEPT_STRIDES}};
const REDUCED_SIZES = {{REDUCED_SIZES}};
const REDUCED_STRIDES = {{REDUCED_STRIDES}};

// Input tensor, contiguous.
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Output, contiguous over the kept axes in their input order.
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn combine(a: f32, b: f32) -> f32 {
  return {{COMBINE}};
}

// Input offset of element `index` of a group of axes: its coordinates times their strides.
fn offset_of(index: u32, sizes: array<u32, 6>, strides: array<u32, 6>) -> u32 {
  var rest = index;
  var offset = 0u;
  offset += (rest % sizes[5]) * strides[5];
  rest = rest / sizes[5];
  offset += (rest % sizes[4]) * strides[4];
  rest = rest / sizes[4];
  offset += (rest % sizes[3]) * strides[3];
  rest = rest / sizes[3];
  offset += (rest % sizes[2]) * strides[2];
  rest = rest / sizes[2];
  offset += (rest % sizes[1]) * strides[1];
  rest = rest / sizes[1];
  return offset + rest * strides[0];
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
  let base = IN_BASE + offset_of(o, KEPT_SIZES, KEPT_STRIDES);

  var acc = {{IDENTITY}};
  for (var r = lid; r < REDUCED; r += WG) {
    acc = combine(acc, x[base + offset_of(r, REDUCED_SIZES, REDUCED_STRIDES)]);
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
    y[OUT_BASE + o] = {{FINISH}};
  }
}
