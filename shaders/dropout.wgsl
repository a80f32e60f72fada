// Dropout with a counter-based generator: element i is kept when the uniform number drawn
// from (i, seed) is at least P, and kept values are scaled by 1 / (1 - P). The same seed gives
// the same mask on every run and adapter, and the backward pass redraws the mask instead of
// storing it. The same kernel computes the backward pass on dy.

// Elements bound in x and y.
const COUNT = {{COUNT}};
// Index in the whole tensor of x[0]: nonzero for a window of a tensor split over bindings.
const FIRST_ELEMENT = {{FIRST_ELEMENT}};
// Drop probability.
const P = {{P}};
// 1 / (1 - P).
const SCALE = {{SCALE}};

// The seed of this step, written by the host before each step.
struct Seed {
  low: u32,
  high: u32,
}

// Input (or output gradient), contiguous.
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Output (or input gradient), same layout.
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> seed: Seed;

// A 4D PCG-style hash (an LCG step, then two rounds of cross-lane multiply-adds around a
// xorshift): a counter-based generator, so each element's number depends only on (i, seed).
fn pcg4d(input: vec4u) -> vec4u {
  var v = input * 1664525u + 1013904223u;
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  v = v ^ (v >> vec4u(16u));
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  return v;
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
  // The mask follows the element's index in the whole tensor, so a split draws the same bits.
  let bits = pcg4d(vec4u(FIRST_ELEMENT + i, seed.low, seed.high, 0x9e3779b9u)).x;
  // The top 24 bits as a uniform number in [0, 1), exact in f32.
  let u = f32(bits >> 8u) * (1.0 / 16777216.0);
  y[i] = select(0.0, x[i] * SCALE, u >= P);
}
