// Second pass of a normalisation's input gradient, one element per thread. With batch
// statistics: dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) over the
// group; with fixed (running) statistics: dx = dxhat * invstd. T is vec4f when G_DIV and
// A_DIV are multiples of 4, so the four elements of a thread share their group and affine
// index.

alias T = {{T}};
// Elements per T.
const WIDTH = {{WIDTH}};
// Number of T values.
const COUNT = {{COUNT}};
const GROUPS = {{GROUPS}};
const GROUP_SIZE = {{GROUP_SIZE}};
const G_DIV = {{G_DIV}};
const G_MOD = {{G_MOD}};
const A_DIV = {{A_DIV}};
const A_MOD = {{A_MOD}};
const AFFINE = {{AFFINE}};
// true: the statistics came from this batch, so they depend on x.
const BATCH_STATS = {{BATCH_STATS}};

// Forward input, contiguous.
@group(0) @binding(0) var<storage, read> x: array<T>;
// Output gradient, same layout.
@group(0) @binding(1) var<storage, read> dy: array<T>;
// [mean, invstd, variance] per group.
@group(0) @binding(2) var<storage, read> stats: array<f32>;
// Affine weight; any buffer when AFFINE is false.
@group(0) @binding(3) var<storage, read> weight: array<f32>;
// Sums from norm-backward-sums.wgsl; any buffer without batch statistics.
@group(0) @binding(4) var<storage, read> sums: array<f32>;
// Input gradient, same layout as x.
@group(0) @binding(5) var<storage, read_write> dx: array<T>;

// 256 threads, one element each.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let e = i * WIDTH;
  let g = (e / G_DIV) % G_MOD;
  let invstd = stats[GROUPS + g];
  var dxhat = dy[i];
  if (AFFINE) { dxhat *= weight[(e / A_DIV) % A_MOD]; }
  if (BATCH_STATS) {
    let xhat = (x[i] - stats[g]) * invstd;
    let n = f32(GROUP_SIZE);
    dx[i] = invstd * (dxhat - sums[g] / n - xhat * sums[GROUPS + g] / n);
  } else {
    dx[i] = dxhat * invstd;
  }
}
