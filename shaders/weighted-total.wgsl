// Totals per-row losses into the value of reduction 'sum' or 'mean' (sum of losses over sum
// of row weights, as PyTorch divides weighted losses), in one workgroup with a fixed-order
// tree so the result is the same bits on every run.

const ROWS = {{ROWS}};
// true: 'mean'; false: 'sum'.
const MEAN = {{MEAN}};

// Loss of each row.
@group(0) @binding(0) var<storage, read> row_loss: array<f32>;
// Weight of each row (0 for ignored rows).
@group(0) @binding(1) var<storage, read> row_weight: array<f32>;
// [the reduced loss, the total row weight].
@group(0) @binding(2) var<storage, read_write> totals: array<f32>;

var<workgroup> loss_part: array<f32, 256>;
var<workgroup> weight_part: array<f32, 256>;

// One workgroup of 256 threads: loss totals are small next to the kernels that produce them.
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var loss = 0.0;
  var weight = 0.0;
  for (var row = lid; row < ROWS; row += 256u) {
    loss += row_loss[row];
    weight += row_weight[row];
  }
  loss_part[lid] = loss;
  weight_part[lid] = weight;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) {
      loss_part[lid] += loss_part[lid + half];
      weight_part[lid] += weight_part[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    totals[0] = select(loss_part[0], loss_part[0] / weight_part[0], MEAN);
    totals[1] = weight_part[0];
  }
}
