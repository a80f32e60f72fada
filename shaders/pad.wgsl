// Pads a tensor, one output element per thread (gather form): each output coordinate minus
// the padding before it is mapped back into the input by MODE, 0: constant (outside reads
// VALUE), 1: reflect (mirror without repeating the edge), 2: replicate (clamp to the edge).

const RANK = {{RANK}};
const COUNT = {{COUNT}};
const MODE = {{MODE}};
const VALUE = {{VALUE}};

// Input, contiguous.
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Padded output, contiguous.
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

fn source(c: i32, size: i32) -> i32 {
  if (MODE == 1u) {
    // Reflection about the first and last elements, valid while padding < size.
    let period = 2 * (size - 1);
    var r = abs(c) % max(period, 1);
    if (r >= size) { r = period - r; }
    return r;
  }
  return clamp(c, 0, size - 1);
}

// 256 threads, one output element each.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let out_shape = {{OUT_SHAPE}};
  let in_shape = {{IN_SHAPE}};
  let before = {{BEFORE}};
  var rest = i;
  var offset = 0u;
  var stride = 1u;
  var inside = true;
  for (var axis = RANK; axis > 0u; axis--) {
    let size = i32(in_shape[axis - 1u]);
    let c = i32(rest % out_shape[axis - 1u]) - before[axis - 1u];
    rest = rest / out_shape[axis - 1u];
    if (c < 0 || c >= size) { inside = false; }
    offset += u32(source(c, size)) * stride;
    stride *= u32(size);
  }
  if (MODE == 0u && !inside) {
    y[i] = VALUE;
  } else {
    y[i] = x[offset];
  }
}
