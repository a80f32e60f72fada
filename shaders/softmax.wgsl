// Softmax or log-softmax over one axis of a tensor viewed as [OUTER, C, INNER]: each thread
// owns one row (an outer and inner index) and walks its C values, which sit INNER apart so
// neighbouring threads read neighbouring addresses. Subtracting the row maximum keeps exp
// from overflowing.

const ROWS = {{ROWS}};
const C = {{C}};
const INNER = {{INNER}};
// true: log-softmax; false: softmax.
const LOG = {{LOG}};

// Input, contiguous [OUTER, C, INNER].
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Output, same layout as x.
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

// 256 threads, one row each: the axis is short (classes or channels), so a row per thread
// keeps every load coalesced without a workgroup reduction.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = linear_workgroup(wid, nwg) * 256u + lid;
  if (row >= ROWS) { return; }
  let base = (row / INNER) * C * INNER + row % INNER;
  var peak = x[base];
  for (var c = 1u; c < C; c++) { peak = max(peak, x[base + c * INNER]); }
  var total = 0.0;
  for (var c = 0u; c < C; c++) { total += exp(x[base + c * INNER] - peak); }
  let log_total = log(total);
  for (var c = 0u; c < C; c++) {
    let shifted = x[base + c * INNER] - peak;
    if (LOG) {
      y[base + c * INNER] = shifted - log_total;
    } else {
      y[base + c * INNER] = exp(shifted) / total;
    }
  }
}
