// Per-row cross-entropy (from logits) or negative log-likelihood (from log-probabilities) over
// class scores viewed as [N, C, S]: rows are (n, s) pairs, S = 1 for classification and the
// voxel count for segmentation. With label smoothing eps and class weights w, a row with
// target t loses (1 - eps) * -w[t] * logp[t] + eps * sum_c -w[c] * logp[c] / C, as PyTorch's
// cross_entropy does; rows whose target is the ignore index lose 0 and weigh 0.

const ROWS = {{ROWS}};
const C = {{C}};
const S = {{S}};
// true: the input is logits (cross-entropy); false: log-probabilities (NLL).
const LOGITS = {{LOGITS}};
const SMOOTHING = {{SMOOTHING}};
const IGNORE_INDEX = {{IGNORE_INDEX}};

// Class scores, contiguous [N, C, S].
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Class index of each row, contiguous [N, S].
@group(0) @binding(1) var<storage, read> labels: array<i32>;
// Weight of each class, [C]; all ones when the loss has no class weights.
@group(0) @binding(2) var<storage, read> class_weight: array<f32>;
// Loss of each row, [N, S]: the result of reduction 'none'. NaN for a target outside
// [0, C) that is not the ignore index, so a bad label cannot pass unnoticed.
@group(0) @binding(3) var<storage, read_write> row_loss: array<f32>;
// Weight of each row's target (0 when ignored), [N, S]: the divisor of reduction 'mean'.
@group(0) @binding(4) var<storage, read_write> row_weight: array<f32>;

// 256 threads, one row each: C is small, so a row per thread keeps loads coalesced over s.
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
  if (t == IGNORE_INDEX) {
    row_loss[row] = 0.0;
    row_weight[row] = 0.0;
    return;
  }
  if (t < 0 || t >= i32(C)) {
    let nan_bits = 0x7fc00000u;
    row_loss[row] = bitcast<f32>(nan_bits);
    row_weight[row] = 0.0;
    return;
  }
  var log_norm = 0.0;
  if (LOGITS) {
    var peak = x[base];
    for (var c = 1u; c < C; c++) { peak = max(peak, x[base + c * S]); }
    var total = 0.0;
    for (var c = 0u; c < C; c++) { total += exp(x[base + c * S] - peak); }
    log_norm = peak + log(total);
  }
  let weight = class_weight[t];
  var loss = -(1.0 - SMOOTHING) * weight * (x[base + u32(t) * S] - log_norm);
  if (SMOOTHING > 0.0) {
    var spread = 0.0;
    for (var c = 0u; c < C; c++) { spread -= class_weight[c] * (x[base + c * S] - log_norm); }
    loss += SMOOTHING * spread / f32(C);
  }
  row_loss[row] = loss;
  row_weight[row] = weight;
}
