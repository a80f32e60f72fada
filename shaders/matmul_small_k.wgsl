// Batched matmul for a short K (the gradients of a linear layer over a small batch):
// C[z] = op(A[z]) @ op(B[z]) (+ bias) then activation, one thread per output element, each
// summing its K terms in order. The tiled GEMM would stage K rows in shared memory for
// register blocks that a short K leaves mostly empty.

// A: [batch, M, K], or [batch, K, M] when TRANSPOSE_A; A_BATCH_STRIDE 0 broadcasts one matrix.
@group(0) @binding(0) var<storage, read> a: array<f32>;
// B: [batch, K, N], or [batch, N, K] when TRANSPOSE_B; B_BATCH_STRIDE 0 broadcasts.
@group(0) @binding(1) var<storage, read> b: array<f32>;
// Bias: [N], added to every row; bound but unread when HAS_BIAS is false.
@group(0) @binding(2) var<storage, read> bias: array<f32>;
// C: [batch, M, N].
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const BATCH = {{BATCH}};
const GEMM_M = {{GEMM_M}};
const GEMM_N = {{GEMM_N}};
const GEMM_K = {{GEMM_K}};
const TRANSPOSE_A = {{TRANSPOSE_A}};
const TRANSPOSE_B = {{TRANSPOSE_B}};
const A_BATCH_STRIDE = {{A_BATCH_STRIDE}};
const B_BATCH_STRIDE = {{B_BATCH_STRIDE}};
const HAS_BIAS = {{HAS_BIAS}};

// Distance between consecutive k in A and in B, and between rows of A and columns of B.
const A_K = select(1u, GEMM_M, TRANSPOSE_A);
const A_M = select(GEMM_K, 1u, TRANSPOSE_A);
const B_K = select(GEMM_N, 1u, TRANSPOSE_B);
const B_N = select(1u, GEMM_K, TRANSPOSE_B);

// 256 threads, one output each; neighbouring threads own neighbouring columns of one row.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let output = linear_workgroup(wid, nwg) * 256u + lid;
  if (output >= BATCH * GEMM_M * GEMM_N) { return; }
  let z = output / (GEMM_M * GEMM_N);
  let m = (output / GEMM_N) % GEMM_M;
  let n = output % GEMM_N;
  let a_base = z * A_BATCH_STRIDE + m * A_M;
  let b_base = z * B_BATCH_STRIDE + n * B_N;
  var sum = 0.0;
  for (var k = 0u; k < GEMM_K; k++) {
    sum = fma(a[a_base + k * A_K], b[b_base + k * B_K], sum);
  }
  if (HAS_BIAS) { sum += bias[n]; }
  c[output] = activate(sum);
}
