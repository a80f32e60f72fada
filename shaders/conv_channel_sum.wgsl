// Sums a tensor [OUTER, CHANNELS, INNER] over OUTER and INNER per channel, in CHUNKS chunks
// per channel: the bias gradient of a convolution (OUTER = batch, INNER = voxels) or of a
// linear layer (INNER = 1). With more than one chunk, a second dispatch of this kernel with
// OUTER = 1 and INNER = CHUNKS sums the chunks. Each workgroup reduces its chunk with a
// strided per-thread sum then a fixed tree, so the result has the same bits on every run.

// Input: [OUTER, CHANNELS, INNER].
@group(0) @binding(0) var<storage, read> values: array<f32>;
// Sums: [CHANNELS, CHUNKS].
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;

const OUTER = {{OUTER}};
const CHANNELS = {{CHANNELS}};
const INNER = {{INNER}};
const CHUNKS = {{CHUNKS}};
// Elements per chunk, over the flattened (outer, inner) index.
const CHUNK = {{CHUNK}};
const TOTAL = OUTER * INNER;

var<workgroup> scratch: array<f32, 256>;

// 256 threads: a power of two for the tree, and enough to stream a chunk of CHUNK values.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let wg = linear_workgroup(wid, nwg);
  if (wg >= CHANNELS * CHUNKS) { return; }
  let channel = wg / CHUNKS;
  let begin = (wg % CHUNKS) * CHUNK;
  let end = min(TOTAL, begin + CHUNK);
  var sum = 0.0;
  for (var e = begin + lid; e < end; e += 256u) {
    sum += values[((e / INNER) * CHANNELS + channel) * INNER + e % INNER];
  }
  scratch[lid] = sum;
  for (var width = 128u; width > 0u; width /= 2u) {
    workgroupBarrier();
    if (lid < width) { scratch[lid] += scratch[lid + width]; }
  }
  if (lid == 0u) { sums[wg] = scratch[0]; }
}
