// Sums a tensor [OUTER, CHANNELS, INNER] over OUTER and INNER per channel, in CHUNKS parts
// per channel: the bias gradient of a convolution (OUTER = batch, INNER = voxels) or of a
// linear layer (INNER = 1). With more than one part, a second dispatch of this kernel with
// OUTER = 1 and INNER = CHUNKS sums the parts. Each workgroup reduces its part with a
// strided per-thread sum then a fixed tree, so the result has the same bits on every run.
//
// When ROW_CHUNKS > 0, each (outer, channel) row of INNER values is cut into ROW_CHUNKS
// parts of CHUNK values (part = outer * ROW_CHUNKS + chunk), so a part is contiguous and
// read as T (vec4f when INNER and CHUNK are multiples of 4). Otherwise the parts cut the
// flattened (outer, inner) index, for small INNER.

alias T = {{T}};
// Input: [OUTER, CHANNELS, INNER], as T.
@group(0) @binding(0) var<storage, read> values: array<T>;
// Sums: [CHANNELS, CHUNKS].
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;

const OUTER = {{OUTER}};
const CHANNELS = {{CHANNELS}};
const INNER = {{INNER}};
const CHUNKS = {{CHUNKS}};
// Elements per part.
const CHUNK = {{CHUNK}};
const ROW_CHUNKS = {{ROW_CHUNKS}};
// ROW_CHUNKS as a divisor, kept nonzero for the flattened case that never divides by it.
const ROW_DIVISOR = max(ROW_CHUNKS, 1u);
// Elements per T.
const WIDTH = {{WIDTH}};
const TOTAL = OUTER * INNER;

var<workgroup> scratch: array<f32, 256>;

// The sum of a T's elements, in a fixed order.
fn total(v: T) -> f32 {
  return {{TOTAL}};
}

// A contiguous part: values [begin, end) of the row of (outer, channel), in T units.
fn row_part(channel: u32, part: u32, lid: u32) -> f32 {
  let outer = part / ROW_DIVISOR;
  let start = (part % ROW_DIVISOR) * CHUNK;
  let row = (outer * CHANNELS + channel) * (INNER / WIDTH);
  let begin = row + start / WIDTH;
  let end = row + min(INNER, start + CHUNK) / WIDTH;
  var sum = T();
  for (var e = begin + lid; e < end; e += 256u) {
    sum += values[e];
  }
  return total(sum);
}

// A part of the flattened (outer, inner) index, read one value at a time (T is f32).
fn flat_part(channel: u32, part: u32, lid: u32) -> f32 {
  let begin = part * CHUNK;
  let end = min(TOTAL, begin + CHUNK);
  var sum = 0.0;
  for (var e = begin + lid; e < end; e += 256u) {
    sum += total(values[((e / INNER) * CHANNELS + channel) * INNER + e % INNER]);
  }
  return sum;
}

// 256 threads: a power of two for the tree, and enough to stream a part of CHUNK values.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let wg = linear_workgroup(wid, nwg);
  if (wg >= CHANNELS * CHUNKS) { return; }
  let channel = wg / CHUNKS;
  let part = wg % CHUNKS;
  if (ROW_CHUNKS > 0u) {
    scratch[lid] = row_part(channel, part, lid);
  } else {
    scratch[lid] = flat_part(channel, part, lid);
  }
  for (var width = 128u; width > 0u; width /= 2u) {
    workgroupBarrier();
    if (lid < width) { scratch[lid] += scratch[lid + width]; }
  }
  if (lid == 0u) { sums[wg] = scratch[0]; }
}
