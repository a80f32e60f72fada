// Bindings, shapes and operand strides shared by the untiled matmul kernels (matmul_dot.wgsl,
// matmul_small_k.wgsl), which prepend this file.

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

// Offsets in a and b of the row of A and the column of B that output element `output` of C
// reads, and its column n.
fn operand_bases(output: u32) -> vec3u {
  let z = output / (GEMM_M * GEMM_N);
  let m = (output / GEMM_N) % GEMM_M;
  let n = output % GEMM_N;
  return vec3u(z * A_BATCH_STRIDE + m * A_M, z * B_BATCH_STRIDE + n * B_N, n);
}
