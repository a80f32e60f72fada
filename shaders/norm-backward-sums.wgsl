// First pass of a normalisation's input gradient: for each group, the sums of
// dxhat = dy * weight[a] and of dxhat * xhat over its elements, one workgroup per group in
// the layout of norm-stats.wgsl, with fixed-order trees. T is vec4f when runs, strides and
// A_DIV are multiples of 4; the group sizes and strides then count vec4 values. With
// WRITES_AFFINE (norm-sums-affine.wgsl, each group one affine index) the sums run over dy and
// the group's weight scales them at the end. Concatenated with norm-sums-affine.wgsl or
// norm-sums-plain.wgsl.

alias T = {{T}};
// Elements per T.
const WIDTH = {{WIDTH}};
const GROUPS = {{GROUPS}};
const GROUP_STRIDE = {{GROUP_STRIDE}};
const BLOCKS = {{BLOCKS}};
const BLOCK_LEN = {{BLOCK_LEN}};
const BLOCK_STRIDE = {{BLOCK_STRIDE}};
const A_DIV = {{A_DIV}};
const A_MOD = {{A_MOD}};
const AFFINE = {{AFFINE}};
const GROUP_SIZE = BLOCKS * BLOCK_LEN;

// Forward input, contiguous.
@group(0) @binding(0) var<storage, read> x: array<T>;
// Output gradient, same layout.
@group(0) @binding(1) var<storage, read> dy: array<T>;
// [mean, invstd, variance] per group, from the forward pass.
@group(0) @binding(2) var<storage, read> stats: array<f32>;
// Affine weight; any buffer when AFFINE is false.
@group(0) @binding(3) var<storage, read> weight: array<f32>;
// [sum of dxhat, sum of dxhat * xhat] per group: 2 * GROUPS values.
@group(0) @binding(4) var<storage, read_write> sums: array<f32>;

var<workgroup> part: array<vec2f, 256>;

// Sum of the lanes of v.
fn lanes(v: T) -> f32 {
  return {{LANES}};
}

// 256 threads per group, as in norm-stats.wgsl.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = linear_workgroup(wid, nwg);
  if (g >= GROUPS) { return; }
  let base = g * GROUP_STRIDE;
  let mean = stats[g];
  let invstd = stats[GROUPS + g];
  var total = vec2f(0.0);
  for (var k = lid; k < GROUP_SIZE; k += 256u) {
    let i = base + (k / BLOCK_LEN) * BLOCK_STRIDE + k % BLOCK_LEN;
    var dxhat = dy[i];
    if (AFFINE && !WRITES_AFFINE) { dxhat *= weight[(i * WIDTH / A_DIV) % A_MOD]; }
    total += vec2f(lanes(dxhat), lanes(dxhat * (x[i] - mean) * invstd));
  }
  part[lid] = total;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    var scale = 1.0;
    if (WRITES_AFFINE) {
      store_affine(g, part[0].x, part[0].y);
      scale = weight[g];
    }
    sums[g] = scale * part[0].x;
    sums[GROUPS + g] = scale * part[0].y;
  }
}
