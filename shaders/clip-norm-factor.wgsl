// Second pass of clipping by global norm: adds every partial in a fixed order into the
// total L2 norm and writes [norm, factor], with factor = min(1, max_norm / (norm + 1e-6))
// as torch.nn.utils.clip_grad_norm_ computes it.

const PARTIALS = {{PARTIALS}};
const MAX_NORM = {{MAX_NORM}};

// Partial sums of squares written by sum-squares.wgsl.
@group(0) @binding(0) var<storage, read> partials: array<f32>;
// [total norm, clip factor].
@group(0) @binding(1) var<storage, read_write> result: array<f32>;

var<workgroup> part: array<f32, 256>;

// One workgroup of 256 threads: there is one partial per 4096 gradient elements.
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var total = 0.0;
  for (var k = lid; k < PARTIALS; k += 256u) { total += partials[k]; }
  part[lid] = total;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let norm = sqrt(part[0]);
    result[0] = norm;
    result[1] = min(1.0, MAX_NORM / (norm + 1e-6));
  }
}
