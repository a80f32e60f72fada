// Applies an element-wise expression of three tensors broadcast to one output shape, as NumPy and
// PyTorch broadcast: y[i] = EXPR(x0, x1, x2). Each input is read through its own strides, 0 on
// the axes it is broadcast along, so no expanded copy is ever made.

// The expression functions of elementwise-functions.wgsl work on T.
alias T = f32;

// Rank of the output after merging axes that every tensor walks contiguously.
const RANK = {{RANK}};
// Output element count.
const COUNT = {{COUNT}};

// Operand 0, contiguous in its own (smaller or equal) shape.
@group(0) @binding(0) var<storage, read> in0: array<f32>;
// Operand 1, contiguous in its own (smaller or equal) shape.
@group(0) @binding(1) var<storage, read> in1: array<f32>;
// Operand 2, contiguous in its own (smaller or equal) shape.
@group(0) @binding(2) var<storage, read> in2: array<f32>;
// Output, contiguous in the broadcast shape.
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

// 256 threads, one output each; the divisions into coordinates dominate, not memory.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  // Output sizes, innermost axis last.
  let shape = {{SHAPE}};
  let strides0 = {{STRIDES0}};
  let strides1 = {{STRIDES1}};
  let strides2 = {{STRIDES2}};
  var rest = i;
  var offset0 = 0u;
  var offset1 = 0u;
  var offset2 = 0u;
  for (var axis = RANK; axis > 0u; axis--) {
    let coordinate = rest % shape[axis - 1u];
    rest = rest / shape[axis - 1u];
    offset0 += coordinate * strides0[axis - 1u];
    offset1 += coordinate * strides1[axis - 1u];
    offset2 += coordinate * strides2[axis - 1u];
  }
  let x0 = in0[offset0];
  let x1 = in1[offset1];
  let x2 = in2[offset2];
  y[i] = {{EXPR}};
}
