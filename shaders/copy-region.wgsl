// Copies a strided region of one tensor into a strided region of another, one element per
// thread: the region's coordinates c give source SRC_BASE + c . SRC_STRIDES and destination
// DST_BASE + c . DST_STRIDES. Slicing (with steps), permuting, one input of a concatenation,
// and the backward passes of those are all such copies.

// Rank of the region after merging axes that both sides walk contiguously.
const RANK = {{RANK}};
// Elements in the region.
const COUNT = {{COUNT}};
const SRC_BASE = {{SRC_BASE}};
const DST_BASE = {{DST_BASE}};

// Source tensor.
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Destination tensor; elements outside the region are left as they are.
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

// 256 threads, one element each.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  // Region sizes, innermost axis last.
  let shape = {{SHAPE}};
  let src_strides = {{SRC_STRIDES}};
  let dst_strides = {{DST_STRIDES}};
  var rest = i;
  var src = SRC_BASE;
  var dst = DST_BASE;
  for (var axis = RANK; axis > 0u; axis--) {
    let c = rest % shape[axis - 1u];
    rest = rest / shape[axis - 1u];
    src += c * src_strides[axis - 1u];
    dst += c * dst_strides[axis - 1u];
  }
  y[dst] = x[src];
}
