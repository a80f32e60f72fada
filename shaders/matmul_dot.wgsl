// Batched matmul for few outputs and a long K (a linear layer to a handful of classes):
// C[z] = op(A[z]) @ op(B[z]) (+ bias) then activation, with one workgroup per output
// element. Its 256 threads each sum a strided share of K, then a fixed tree adds the
// shares, so the result has the same bits on every run. The tiled GEMM would give such a
// product one workgroup that walks all of K alone.

var<workgroup> shares: array<f32, 256>;

// 256 threads: a power of two for the tree. Each thread reads k = lid, lid + 256, ..., so
// neighbouring threads read neighbouring values when the operands are contiguous along K.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let output = linear_workgroup(wid, nwg);
  if (output >= BATCH * GEMM_M * GEMM_N) { return; }
  let bases = operand_bases(output);
  let a_base = bases.x;
  let b_base = bases.y;
  let n = bases.z;
  var sum = 0.0;
  for (var k = lid; k < GEMM_K; k += 256u) {
    sum = fma(a[a_base + k * A_K], b[b_base + k * B_K], sum);
  }
  shares[lid] = sum;
  for (var width = 128u; width > 0u; width /= 2u) {
    workgroupBarrier();
    if (lid < width) { shares[lid] += shares[lid + width]; }
  }
  if (lid == 0u) {
    var v = shares[0];
    if (HAS_BIAS) { v += bias[n]; }
    c[output] = activate(v);
  }
}
