// Copies a strided region of one tensor into a strided region of another, one element per
// thread: the region's coordinates c give source SRC_BASE + c . SRC_STRIDES and destination
// DST_BASE + c . DST_STRIDES. Slicing (with steps), permuting, one input of a concatenation,
// and the backward passes of those are all such copies.

// Elements in the region.
const COUNT = {{COUNT}};
const SRC_BASE = {{SRC_BASE}};
const DST_BASE = {{DST_BASE}};
// Region sizes and the strides of each side, over 6 axes (leading size-1 axes pad smaller
// ranks), innermost last. The code indexes them with literals, so every division is by a
// constant the compiler turns into a multiply.
const SHAPE = {{SHAPE}};
const SRC_STRIDES = {{SRC_STRIDES}};
const DST_STRIDES = {{DST_STRIDES}};

// Source tensor.
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Destination tensor; elements outside the region are left as they are.
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

fn offset_of(c: array<u32, 6>, strides: array<u32, 6>) -> u32 {
  return c[0] * strides[0] + c[1] * strides[1] + c[2] * strides[2] + c[3] * strides[3] +
      c[4] * strides[4] + c[5] * strides[5];
}

// 256 threads, one element each.
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
  c[0] = rest / SHAPE[1];
  y[DST_BASE + offset_of(c, DST_STRIDES)] = x[SRC_BASE + offset_of(c, SRC_STRIDES)];
}
