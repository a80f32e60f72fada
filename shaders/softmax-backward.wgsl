// Input gradient of softmax (dx = y * (dy - sum(dy * y))) or log-softmax
// (dx = dy - exp(y) * sum(dy)) over one axis, one row per thread as in softmax.wgsl.

const ROWS = {{ROWS}};
const C = {{C}};
const INNER = {{INNER}};
const LOG = {{LOG}};

// Forward output y, contiguous [OUTER, C, INNER].
@group(0) @binding(0) var<storage, read> y: array<f32>;
// Output gradient, same layout.
@group(0) @binding(1) var<storage, read> dy: array<f32>;
// Input gradient, same layout.
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

// 256 threads, one row each, as in softmax.wgsl.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = linear_workgroup(wid, nwg) * 256u + lid;
  if (row >= ROWS) { return; }
  let base = (row / INNER) * C * INNER + row % INNER;
  var total = 0.0;
  for (var c = 0u; c < C; c++) {
    let k = base + c * INNER;
    total += select(dy[k] * y[k], dy[k], LOG);
  }
  for (var c = 0u; c < C; c++) {
    let k = base + c * INNER;
    if (LOG) {
      dx[k] = dy[k] - exp(y[k]) * total;
    } else {
      dx[k] = y[k] * (dy[k] - total);
    }
  }
}
