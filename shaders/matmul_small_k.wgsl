// Batched matmul for a short K (the gradients of a linear layer over a small batch):
// C[z] = op(A[z]) @ op(B[z]) (+ bias) then activation, one thread per output element, each
// summing its K terms in order. The tiled GEMM would stage K rows in shared memory for
// register blocks that a short K leaves mostly empty.

// 256 threads, one output each; neighbouring threads own neighbouring columns of one row.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let output = linear_workgroup(wid, nwg) * 256u + lid;
  if (output >= BATCH * GEMM_M * GEMM_N) { return; }
  let bases = operand_bases(output);
  let a_base = bases.x;
  let b_base = bases.y;
  let n = bases.z;
  var sum = 0.0;
  for (var k = 0u; k < GEMM_K; k++) {
    sum = fma(a[a_base + k * A_K], b[b_base + k * B_K], sum);
  }
  if (HAS_BIAS) { sum += bias[n]; }
  c[output] = activate(sum);
}
