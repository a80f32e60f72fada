// Input gradient of reflect and replicate padding in gather form: each thread owns one input
// element and sums dy over every padded output that reads it, in a fixed order and without
// atomics. Along one axis, input coordinate c is read by output c + before and, at the
// borders, by reflected outputs (reflect: before - c and before + 2 (size - 1) - c) or by
// the whole padded run (replicate: outputs up to `before` for c = 0, from before + size - 1
// for c = size - 1). The kernel walks the product of those candidates over all axes.

const RANK = {{RANK}};
const COUNT = {{COUNT}};
// 1: reflect, 2: replicate.
const MODE = {{MODE}};

// Output gradient, contiguous in the padded shape.
@group(0) @binding(0) var<storage, read> dy: array<f32>;
// Input gradient, contiguous in the input shape.
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;

// Up to 3 outputs along one axis that read input coordinate c: (count, first, second, third);
// for replicate, the outputs form the run [first, first + count).
fn candidates(c: i32, size: i32, before: i32, out_size: i32) -> vec4i {
  let direct = c + before;
  if (MODE == 2u) {
    let first = select(direct, 0, c == 0);
    let last = select(direct, out_size - 1, c == size - 1);
    return vec4i(last - first + 1, first, 0, 0);
  }
  var result = vec4i(1, direct, 0, 0);
  let left = before - c;
  if (c >= 1 && left >= 0) {
    result[result.x + 1] = left;
    result.x += 1;
  }
  let right = before + 2 * (size - 1) - c;
  if (c <= size - 2 && right < out_size) {
    result[result.x + 1] = right;
    result.x += 1;
  }
  return result;
}

fn candidate(list: vec4i, j: i32) -> i32 {
  if (MODE == 2u) { return list.y + j; }
  return list[j + 1];
}

// 256 threads, one input element each.
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
  var lists: array<vec4i, RANK>;
  var combinations = 1;
  var rest = i;
  for (var axis = RANK; axis > 0u; axis--) {
    let size = i32(in_shape[axis - 1u]);
    let c = i32(rest % u32(size));
    rest = rest / u32(size);
    lists[axis - 1u] = candidates(c, size, before[axis - 1u], i32(out_shape[axis - 1u]));
    combinations *= lists[axis - 1u].x;
  }
  var total = 0.0;
  for (var k = 0; k < combinations; k++) {
    var digits = k;
    var offset = 0u;
    var stride = 1u;
    for (var axis = RANK; axis > 0u; axis--) {
      let list = lists[axis - 1u];
      let o = candidate(list, digits % list.x);
      digits = digits / list.x;
      offset += u32(o) * stride;
      stride *= out_shape[axis - 1u];
    }
    total += dy[offset];
  }
  dx[i] = total;
}
