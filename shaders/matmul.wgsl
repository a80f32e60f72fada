// Operand access for batched matmul: C[z] = op(A[z]) @ op(B[z]) (+ bias) then activation,
// where op transposes when TRANSPOSE_A / TRANSPOSE_B is true. Concatenated before
// matmul_tile.wgsl, which runs the tiled loop with z as the batch index.

// A: [batch, M, K], or [batch, K, M] when TRANSPOSE_A; A_BATCH_STRIDE 0 broadcasts one matrix.
@group(0) @binding(0) var<storage, read> a: array<f32>;
// B: [batch, K, N], or [batch, N, K] when TRANSPOSE_B; B_BATCH_STRIDE 0 broadcasts.
@group(0) @binding(1) var<storage, read> b: array<f32>;
// Bias: [N], added to every row; bound but unread when HAS_BIAS is false.
@group(0) @binding(2) var<storage, read> bias: array<f32>;
// C: [batch, M, N].
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const TRANSPOSE_A = {{TRANSPOSE_A}};
const TRANSPOSE_B = {{TRANSPOSE_B}};
const A_BATCH_STRIDE = {{A_BATCH_STRIDE}};
const B_BATCH_STRIDE = {{B_BATCH_STRIDE}};
const HAS_BIAS = {{HAS_BIAS}};

struct KContext { k: u32 }

fn k_context(k: u32) -> KContext {
  return KContext(k);
}

fn load_a(z: u32, m: u32, kc: KContext) -> f32 {
  if (TRANSPOSE_A) { return a[z * A_BATCH_STRIDE + kc.k * GEMM_M + m]; }
  return a[z * A_BATCH_STRIDE + m * GEMM_K + kc.k];
}

struct BColumn { z: u32, n: u32 }

fn b_column(z: u32, n: u32) -> BColumn {
  return BColumn(z, n);
}

fn load_b(column: BColumn, kc: KContext) -> f32 {
  if (TRANSPOSE_B) { return b[column.z * B_BATCH_STRIDE + column.n * GEMM_K + kc.k]; }
  return b[column.z * B_BATCH_STRIDE + kc.k * GEMM_N + column.n];
}

fn store_c(z: u32, split: u32, m: u32, n: u32, value: f32) {
  var v = value;
  if (HAS_BIAS) { v += bias[n]; }
  c[(z * GEMM_M + m) * GEMM_N + n] = activate(v);
}
