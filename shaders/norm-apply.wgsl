// Normalises each element with its group's statistics and applies the affine transform:
// y = (x - mean[g]) * invstd[g] * weight[a] + bias[a], with the group g = (i / G_DIV) % G_MOD
// and the affine index a = (i / A_DIV) % A_MOD of element i. T is vec4f when G_DIV and A_DIV
// are multiples of 4, so the four elements of a thread share their group and affine index.
// The activation of an epilogue fusion (see src/kernels/fuse.ts) is applied before the store.
// Concatenated with matmul_epilogue.wgsl, which defines activate().

alias T = {{T}};
// Elements per T.
const WIDTH = {{WIDTH}};
// Number of T values.
const COUNT = {{COUNT}};
const GROUPS = {{GROUPS}};
const G_DIV = {{G_DIV}};
const G_MOD = {{G_MOD}};
const A_DIV = {{A_DIV}};
const A_MOD = {{A_MOD}};
// false: no weight and bias (affine=False), so any buffers may be bound for them.
const AFFINE = {{AFFINE}};

// Input, contiguous.
@group(0) @binding(0) var<storage, read> x: array<T>;
// Statistics from norm-stats.wgsl or bn-running.wgsl: [mean, invstd, variance] per group.
@group(0) @binding(1) var<storage, read> stats: array<f32>;
// Affine weight (gamma), A_MOD values.
@group(0) @binding(2) var<storage, read> weight: array<f32>;
// Affine bias (beta), A_MOD values.
@group(0) @binding(3) var<storage, read> bias: array<f32>;
// Output, same layout as x.
@group(0) @binding(4) var<storage, read_write> y: array<T>;

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
  var value = (x[i] - stats[g]) * stats[GROUPS + g];
  if (AFFINE) {
    let a = (e / A_DIV) % A_MOD;
    value = value * weight[a] + bias[a];
  }
  y[i] = activate_all(value);
}

// activate() on each element of v.
fn activate_all(v: T) -> T {
  return {{ACTIVATE_ALL}};
}
