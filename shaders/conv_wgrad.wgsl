// Convolution weight gradient as an implicit GEMM with split K, one GEMM per group z:
// M = GROUP_OUT output channels, N = GROUP_IN x kernel volume, K = batch x output voxels.
// K is large for 3D volumes (millions), so it is cut into SPLITS chunks whose partial sums
// go to separate slices of `partial`; conv_wgrad_reduce.wgsl then adds the slices in order.
// Concatenated with conv_geometry.wgsl and matmul_tile.wgsl.

// Output gradient dy: [N, OUT_CHANNELS, OUT_D, OUT_H, OUT_W].
@group(0) @binding(0) var<storage, read> dy: array<f32>;
// Input x: [N, IN_CHANNELS, IN_D, IN_H, IN_W].
@group(0) @binding(1) var<storage, read> x: array<f32>;
// Partial weight gradients: [SPLITS, OUT_CHANNELS, GROUP_IN, KERNEL_D, KERNEL_H, KERNEL_W];
// with one split this is the weight gradient itself.
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

const WEIGHT_COUNT = OUT_CHANNELS * GROUP_IN * KERNEL_VOLUME;

// k = batch x output voxel: the window origin in padded input coordinates.
struct KContext { dy_offset: u32, x_offset: u32, origin: vec3i }

fn k_context(k: u32) -> KContext {
  let b = k / OUT_VOXELS;
  let r = k % OUT_VOXELS;
  let o = output_coords(r);
  let origin = vec3i(o * vec3u(STRIDE_D, STRIDE_H, STRIDE_W)) - vec3i(PAD_D, PAD_H, PAD_W);
  return KContext(b * OUT_CHANNELS * OUT_VOXELS + r, b * IN_CHANNELS * IN_VOXELS, origin);
}

fn load_a(z: u32, m: u32, kc: KContext) -> f32 {
  return dy[kc.dy_offset + (z * GROUP_OUT + m) * OUT_VOXELS];
}

// n = input channel (within the group) x kernel offset.
struct BColumn { channel_offset: u32, offsets: vec3i }

fn b_column(z: u32, n: u32) -> BColumn {
  let channel = z * GROUP_IN + n / KERNEL_VOLUME;
  return BColumn(channel * IN_VOXELS, kernel_offsets(n % KERNEL_VOLUME));
}

fn load_b(column: BColumn, kc: KContext) -> f32 {
  let offset = input_offset(kc.origin + column.offsets);
  if (offset < 0) { return 0.0; }
  return x[kc.x_offset + column.channel_offset + u32(offset)];
}

fn store_c(z: u32, split: u32, m: u32, n: u32, value: f32) {
  partial[split * WEIGHT_COUNT + (z * GROUP_OUT + m) * GEMM_N + n] = value;
}
