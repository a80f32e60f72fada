// Convolution forward as an implicit GEMM, one GEMM per group z (no im2col buffer):
// M = GROUP_OUT output channels, N = batch x output voxels, K = GROUP_IN x kernel volume.
// A is the weight, B the input gathered through the kernel window, zero in the padding.
// Concatenated with conv_geometry.wgsl, matmul_epilogue.wgsl, conv_epilogue_*.wgsl (which
// defines `finish`) and matmul_tile.wgsl.

// Input x: [N, IN_CHANNELS, IN_D, IN_H, IN_W].
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Weight: [OUT_CHANNELS, GROUP_IN, KERNEL_D, KERNEL_H, KERNEL_W], read as [M][K] per group.
@group(0) @binding(1) var<storage, read> weight: array<f32>;
// Bias: [OUT_CHANNELS]; bound but unread when HAS_BIAS is false.
@group(0) @binding(2) var<storage, read> bias: array<f32>;
// Output y: [N, OUT_CHANNELS, OUT_D, OUT_H, OUT_W].
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const HAS_BIAS = {{HAS_BIAS}};

// k = input channel (within the group) x kernel offset.
struct KContext { k: u32, channel_offset: u32, offsets: vec3i }

fn k_context(k: u32) -> KContext {
  return KContext(k, (k / KERNEL_VOLUME) * IN_VOXELS, kernel_offsets(k % KERNEL_VOLUME));
}

fn load_a(z: u32, m: u32, kc: KContext) -> f32 {
  return weight[(OUT_CHANNEL_BASE + z * GROUP_OUT + m) * GEMM_K + kc.k];
}

// n = batch x output voxel: the window origin in padded input coordinates.
struct BColumn { base: u32, origin: vec3i }

fn b_column(z: u32, n: u32) -> BColumn {
  let b = n / OUT_VOXELS;
  let o = output_coords(n % OUT_VOXELS);
  let origin = vec3i(o * vec3u(STRIDE_D, STRIDE_H, STRIDE_W)) - vec3i(PAD_D, PAD_H, PAD_W);
  return BColumn((b * IN_CHANNELS + z * GROUP_IN) * IN_VOXELS, origin);
}

fn load_b(column: BColumn, kc: KContext) -> f32 {
  let offset = input_offset(column.origin + kc.offsets);
  if (offset < 0) { return 0.0; }
  return x[column.base + kc.channel_offset + u32(offset)];
}

fn store_c(z: u32, split: u32, m: u32, n: u32, value: f32) {
  let channel = z * GROUP_OUT + m;
  var v = value;
  if (HAS_BIAS) { v += bias[OUT_CHANNEL_BASE + channel]; }
  let index = ((n / OUT_VOXELS) * OUT_CHANNELS + channel) * OUT_VOXELS + n % OUT_VOXELS;
  y[index] = finish(v, channel, index);
}
