// Applies an element-wise expression of three tensors broadcast to one output shape, as NumPy
// and PyTorch broadcast: y[i] = EXPR(x0, x1, x2). Each input is read through its own strides, 0
// on the axes it is broadcast along, so no expanded copy is ever made.

// The expression functions of elementwise-functions.wgsl work on T.
alias T = f32;

// Output element count.
const COUNT = {{COUNT}};
// Output sizes over 6 axes (leading axes of size 1 pad smaller ranks), innermost last. The
// coordinates below index these const arrays with literals, so every division is by a
// constant the compiler turns into a multiply.
const SHAPE = {{SHAPE}};
// Strides of input 0 over the same axes, 0 where it is broadcast.
const STRIDES0 = {{STRIDES0}};
// Strides of input 1 over the same axes, 0 where it is broadcast.
const STRIDES1 = {{STRIDES1}};
// Strides of input 2 over the same axes, 0 where it is broadcast.
const STRIDES2 = {{STRIDES2}};

// Operand 0, contiguous in its own (smaller or equal) shape.
@group(0) @binding(0) var<storage, read> in0: array<f32>;
// Operand 1, contiguous in its own (smaller or equal) shape.
@group(0) @binding(1) var<storage, read> in1: array<f32>;
// Operand 2, contiguous in its own (smaller or equal) shape.
@group(0) @binding(2) var<storage, read> in2: array<f32>;
// Output, contiguous in the broadcast shape.
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn offset_of(c: array<u32, 6>, strides: array<u32, 6>) -> u32 {
  return c[0] * strides[0] + c[1] * strides[1] + c[2] * strides[2] + c[3] * strides[3] +
      c[4] * strides[4] + c[5] * strides[5];
}

// 256 threads, one output each.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  var c: array<u32, 6>;
  var rest = i;
  c[5] = rest % SHAPE[5];
  rest = rest / SHAPE[5];
  c[4] = rest % SHAPE[4];
  rest = rest / SHAPE[4];
  c[3] = rest % SHAPE[3];
  rest = rest / SHAPE[3];
  c[2] = rest % SHAPE[2];
  rest = rest / SHAPE[2];
  c[1] = rest % SHAPE[1];
  rest = rest / SHAPE[1];
  c[0] = rest;
  let x0 = in0[offset_of(c, STRIDES0)];
  let x1 = in1[offset_of(c, STRIDES1)];
  let x2 = in2[offset_of(c, STRIDES2)];
  y[i] = {{EXPR}};
}
