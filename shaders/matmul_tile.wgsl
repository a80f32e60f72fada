// The tiled GEMM loop shared by matmul and the implicit-GEMM convolutions:
// C[z][m][n] = sum over k of A[z][m][k] * B[z][k][n], with K optionally split into chunks.
// The operand file concatenated before this one defines how A and B are read and C is stored:
//   struct KContext; fn k_context(k: u32) -> KContext;   // per-k indexing, once per tile
//   fn load_a(z: u32, m: u32, kc: KContext) -> f32;
//   struct BColumn; fn b_column(z: u32, n: u32) -> BColumn; // per-n indexing, once per thread
//   fn load_b(column: BColumn, kc: KContext) -> f32;
//   fn store_c(z: u32, split: u32, m: u32, n: u32, value: f32);
// The loop calls load_a and load_b only for m < GEMM_M, n < GEMM_N and k inside the chunk,
// and store_c only for m < GEMM_M and n < GEMM_N.
// NOTE: every global and shared-memory access is a scalar f32; vec4 loads (for operands
// aligned along the tile's fast axis) are not implemented yet.

// Output tile of a workgroup: TILE_M x TILE_N; each thread owns REG_M x REG_N outputs in
// registers, so one shared-memory value feeds REG_N (or REG_M) multiply-adds.
const TILE_M = {{TILE_M}};
const TILE_N = {{TILE_N}};
const TILE_K = {{TILE_K}};
const REG_M = {{REG_M}};
const REG_N = {{REG_N}};
const THREADS = {{THREADS}};
// The threads form K_LANES lanes of (TILE_M / REG_M) * (TILE_N / REG_N); lane l multiplies
// the k rows l, l + K_LANES, ... of each tile, and lane 0 adds the lanes' sums in lane order
// at the end. Several lanes keep small output tiles (weight gradients) at 64+ threads.
const K_LANES = {{K_LANES}};
const LANE_THREADS = THREADS / K_LANES;
const GEMM_M = {{GEMM_M}};
const GEMM_N = {{GEMM_N}};
const GEMM_K = {{GEMM_K}};
// K is cut into SPLITS chunks of K_CHUNK (a multiple of TILE_K); the split is passed to store_c.
const K_CHUNK = {{K_CHUNK}};
const SPLITS = {{SPLITS}};
const TILES_M = {{TILES_M}};
const TILES_N = {{TILES_N}};
const WORKGROUPS = {{WORKGROUPS}};

// Tile loading: A_LANES threads cover TILE_M rows (each thread A_ROWS of them), stepping
// A_STEP rows of K at a time; B likewise with columns.
const A_LANES = {{A_LANES}};
const A_ROWS = TILE_M / A_LANES;
const A_STEP = THREADS / A_LANES;
const B_LANES = {{B_LANES}};
const B_COLUMNS = TILE_N / B_LANES;
const B_STEP = THREADS / B_LANES;
const THREADS_N = TILE_N / REG_N;

// A and B tiles, both with k as the outer index so the inner loop reads along m and n.
var<workgroup> a_tile: array<f32, TILE_K * TILE_M>;
var<workgroup> b_tile: array<f32, TILE_K * TILE_N>;
var<workgroup> k_tile: array<KContext, TILE_K>;
// Accumulators of lanes 1 .. K_LANES - 1 (one element when K_LANES is 1).
var<workgroup> lane_sums: array<f32, {{LANE_SUMS}}>;

// THREADS is K_LANES * (TILE_M / REG_M) * (TILE_N / REG_N), between 64 and 256: enough for a
// GPU's SIMD units and for lavapipe's 8-wide vectorisation across invocations, few enough
// that the register blocks fit.
@compute @workgroup_size(THREADS)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let wg = linear_workgroup(wid, nwg);
  if (wg >= WORKGROUPS) { return; }
  let tile_n = wg % TILES_N;
  let tile_m = (wg / TILES_N) % TILES_M;
  let split = (wg / (TILES_N * TILES_M)) % SPLITS;
  let z = wg / (TILES_N * TILES_M * SPLITS);
  let m0 = tile_m * TILE_M;
  let n0 = tile_n * TILE_N;
  let k_begin = split * K_CHUNK;
  let k_end = min(GEMM_K, k_begin + K_CHUNK);

  // The rows and columns this thread loads stay fixed over K, so their indexing is done once.
  let a_lane = lid % A_LANES;
  let b_lane = lid % B_LANES;
  var columns: array<BColumn, B_COLUMNS>;
  for (var j = 0u; j < B_COLUMNS; j++) {
    columns[j] = b_column(z, min(n0 + b_lane + j * B_LANES, GEMM_N - 1u));
  }

  let k_lane = lid / LANE_THREADS;
  let row = (lid % LANE_THREADS) / THREADS_N;
  let col = lid % THREADS_N;
  var acc: array<f32, REG_M * REG_N>;
  var a: array<f32, REG_M>;
  var b: array<f32, REG_N>;

  for (var k0 = k_begin; k0 < k_end; k0 += TILE_K) {
    if (lid < TILE_K) {
      k_tile[lid] = k_context(min(k0 + lid, GEMM_K - 1u));
    }
    workgroupBarrier();
    for (var kk = lid / A_LANES; kk < TILE_K; kk += A_STEP) {
      let kc = k_tile[kk];
      let k_ok = k0 + kk < k_end;
      for (var i = 0u; i < A_ROWS; i++) {
        let m = m0 + a_lane + i * A_LANES;
        var value = 0.0;
        if (k_ok && m < GEMM_M) { value = load_a(z, m, kc); }
        a_tile[kk * TILE_M + a_lane + i * A_LANES] = value;
      }
    }
    for (var kk = lid / B_LANES; kk < TILE_K; kk += B_STEP) {
      let kc = k_tile[kk];
      let k_ok = k0 + kk < k_end;
      for (var j = 0u; j < B_COLUMNS; j++) {
        var value = 0.0;
        if (k_ok && n0 + b_lane + j * B_LANES < GEMM_N) { value = load_b(columns[j], kc); }
        b_tile[kk * TILE_N + b_lane + j * B_LANES] = value;
      }
    }
    workgroupBarrier();
    for (var kk = k_lane; kk < TILE_K; kk += K_LANES) {
      for (var i = 0u; i < REG_M; i++) { a[i] = a_tile[kk * TILE_M + row * REG_M + i]; }
      for (var j = 0u; j < REG_N; j++) { b[j] = b_tile[kk * TILE_N + col * REG_N + j]; }
      for (var i = 0u; i < REG_M; i++) {
        for (var j = 0u; j < REG_N; j++) {
          acc[i * REG_N + j] = fma(a[i], b[j], acc[i * REG_N + j]);
        }
      }
    }
    workgroupBarrier();
  }

  if (K_LANES > 1u) {
    let own = (lid % LANE_THREADS) * REG_M * REG_N;
    if (k_lane > 0u) {
      let base = (k_lane - 1u) * LANE_THREADS * REG_M * REG_N + own;
      for (var e = 0u; e < REG_M * REG_N; e++) { lane_sums[base + e] = acc[e]; }
    }
    workgroupBarrier();
    if (k_lane > 0u) { return; }
    for (var lane = 1u; lane < K_LANES; lane++) {
      let base = (lane - 1u) * LANE_THREADS * REG_M * REG_N + own;
      for (var e = 0u; e < REG_M * REG_N; e++) { acc[e] += lane_sums[base + e]; }
    }
  }

  for (var i = 0u; i < REG_M; i++) {
    let m = m0 + row * REG_M + i;
    for (var j = 0u; j < REG_N; j++) {
      let n = n0 + col * REG_N + j;
      if (m < GEMM_M && n < GEMM_N) { store_c(z, split, m, n, acc[i * REG_N + j]); }
    }
  }
}
