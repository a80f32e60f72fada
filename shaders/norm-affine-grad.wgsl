// Gradients of a normalisation's affine weight and bias: for each affine index a, the sums
// of dy * xhat and of dy over the elements that use it, one workgroup per index. Those
// elements are runs of A_DIV contiguous values, A_DIV * A_MOD apart.

const A_COUNT = {{A_MOD}};
const A_DIV = {{A_DIV}};
const RUNS = {{RUNS}};
const GROUPS = {{GROUPS}};
const G_DIV = {{G_DIV}};
const G_MOD = {{G_MOD}};
const SIZE = RUNS * A_DIV;

// Forward input, contiguous.
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Output gradient, same layout.
@group(0) @binding(1) var<storage, read> dy: array<f32>;
// [mean, invstd, variance] per group.
@group(0) @binding(2) var<storage, read> stats: array<f32>;
// Weight gradient, A_COUNT values.
@group(0) @binding(3) var<storage, read_write> dweight: array<f32>;
// Bias gradient, A_COUNT values.
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

var<workgroup> part: array<vec2f, 256>;

// 256 threads per affine index; runs are read a thread per element.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let a = linear_workgroup(wid, nwg);
  if (a >= A_COUNT) { return; }
  var total = vec2f(0.0);
  for (var k = lid; k < SIZE; k += 256u) {
    let i = (k / A_DIV) * A_DIV * A_COUNT + a * A_DIV + k % A_DIV;
    let g = (i / G_DIV) % G_MOD;
    let xhat = (x[i] - stats[g]) * stats[GROUPS + g];
    total += vec2f(dy[i] * xhat, dy[i]);
  }
  part[lid] = total;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    dweight[a] = part[0].x;
    dbias[a] = part[0].y;
  }
}
