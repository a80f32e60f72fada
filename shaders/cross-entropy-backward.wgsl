// Input gradient of cross-entropy (from logits) or NLL (from log-probabilities), one row per
// thread as in cross-entropy.wgsl. For logits, with p = softmax(x), W = sum_c w[c]:
//   dx[c] = g * ((1 - eps) * w[t] * (p[c] - [c == t]) + eps / C * (W * p[c] - w[c])),
// and for log-probabilities the softmax terms drop out. g is the row's output gradient,
// divided by the total target weight for reduction 'mean'.

const ROWS = {{ROWS}};
const C = {{C}};
const S = {{S}};
const LOGITS = {{LOGITS}};
const SMOOTHING = {{SMOOTHING}};
const IGNORE_INDEX = {{IGNORE_INDEX}};
// 0: 'none' (one gradient per row), 1: 'sum', 2: 'mean'.
const REDUCTION = {{REDUCTION}};

// Class scores, contiguous [N, C, S].
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Class index of each row, contiguous [N, S].
@group(0) @binding(1) var<storage, read> labels: array<i32>;
// Weight of each class, [C].
@group(0) @binding(2) var<storage, read> class_weight: array<f32>;
// The forward's [loss, total target weight]; read only for reduction 'mean', so any buffer
// may be bound otherwise.
@group(0) @binding(3) var<storage, read> totals: array<f32>;
// Output gradient: [1] for 'sum' and 'mean', [N, S] for 'none'.
@group(0) @binding(4) var<storage, read> dloss: array<f32>;
// Input gradient, contiguous [N, C, S].
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

// 256 threads, one row each, as in cross-entropy.wgsl.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = linear_workgroup(wid, nwg) * 256u + lid;
  if (row >= ROWS) { return; }
  let base = (row / S) * C * S + row % S;
  let t = labels[row];
  if (t == IGNORE_INDEX || t < 0 || t >= i32(C)) {
    for (var c = 0u; c < C; c++) { dx[base + c * S] = 0.0; }
    return;
  }
  var g = 0.0;
  if (REDUCTION == 0u) {
    g = dloss[row];
  } else if (REDUCTION == 1u) {
    g = dloss[0];
  } else {
    g = dloss[0] / totals[1];
  }
  var weight_total = 0.0;
  for (var c = 0u; c < C; c++) { weight_total += class_weight[c]; }
  let target_weight = class_weight[t];
  var peak = 0.0;
  var total = 1.0;
  if (LOGITS) {
    peak = x[base];
    for (var c = 1u; c < C; c++) { peak = max(peak, x[base + c * S]); }
    total = 0.0;
    for (var c = 0u; c < C; c++) { total += exp(x[base + c * S] - peak); }
  }
  for (var c = 0u; c < C; c++) {
    let k = base + c * S;
    let hit = select(0.0, 1.0, i32(c) == t);
    var grad = 0.0;
    if (LOGITS) {
      let p = exp(x[k] - peak) / total;
      grad = (1.0 - SMOOTHING) * target_weight * (p - hit) +
          SMOOTHING / f32(C) * (weight_total * p - class_weight[c]);
    } else {
      grad = -(1.0 - SMOOTHING) * target_weight * hit - SMOOTHING / f32(C) * class_weight[c];
    }
    dx[k] = g * grad;
  }
}
