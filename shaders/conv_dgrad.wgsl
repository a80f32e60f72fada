// Convolution input gradient (the transposed-convolution direction) as an implicit GEMM, one
// GEMM per group z: M = GROUP_IN input channels, N = batch x input voxels,
// K = GROUP_OUT x kernel volume. An input voxel i receives dy at output voxel
// o = (i + pad - kernel offset) / stride wherever that division is exact and o is in range,
// so for stride s only about 1 / s^3 of the K terms are nonzero; they are skipped as zero
// loads, not as work.
// Concatenated with conv_geometry.wgsl, matmul_epilogue.wgsl, conv_epilogue_*.wgsl (which
// defines `finish`) and matmul_tile.wgsl. With bias and activation (and a folded norm and
// residual) it is also the forward of a transposed convolution whose input is dy.

// Output gradient dy: [N, OUT_CHANNELS, OUT_D, OUT_H, OUT_W].
@group(0) @binding(0) var<storage, read> dy: array<f32>;
// Weight: [OUT_CHANNELS, GROUP_IN, KERNEL_D, KERNEL_H, KERNEL_W].
@group(0) @binding(1) var<storage, read> weight: array<f32>;
// Bias: [IN_CHANNELS], for transposed convolution; bound but unread when HAS_BIAS is false.
@group(0) @binding(2) var<storage, read> bias: array<f32>;
// Input gradient dx: [N, IN_CHANNELS, IN_D, IN_H, IN_W].
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

const HAS_BIAS = {{HAS_BIAS}};
const STRIDE = vec3u(STRIDE_D, STRIDE_H, STRIDE_W);
const OUT_SIZE = vec3u(OUT_D, OUT_H, OUT_W);

// k = output channel (within the group) x kernel offset.
struct KContext { weight_offset: u32, dy_offset: u32, offsets: vec3i }

fn k_context(k: u32) -> KContext {
  let channel = k / KERNEL_VOLUME;
  let r = k % KERNEL_VOLUME;
  return KContext(channel * GROUP_IN * KERNEL_VOLUME + r, channel * OUT_VOXELS, kernel_offsets(r));
}

fn load_a(z: u32, m: u32, kc: KContext) -> f32 {
  return weight[(z * GROUP_OUT * GROUP_IN + m) * KERNEL_VOLUME + kc.weight_offset];
}

// n = batch x input voxel, in padded coordinates.
struct BColumn { base: u32, padded: vec3i }

fn b_column(z: u32, n: u32) -> BColumn {
  let b = n / IN_VOXELS;
  let p = vec3i(input_coords(n % IN_VOXELS)) + vec3i(PAD_D, PAD_H, PAD_W);
  return BColumn((b * OUT_CHANNELS + z * GROUP_OUT) * OUT_VOXELS, p);
}

fn load_b(column: BColumn, kc: KContext) -> f32 {
  // A negative t wraps to a large u32 and fails the range check.
  let t = vec3u(column.padded - kc.offsets);
  let o = t / STRIDE;
  if (any(o * STRIDE != t) || any(o >= OUT_SIZE)) { return 0.0; }
  return dy[column.base + kc.dy_offset + (o.x * OUT_H + o.y) * OUT_W + o.z];
}

fn store_c(z: u32, split: u32, m: u32, n: u32, value: f32) {
  let channel = z * GROUP_IN + m;
  var v = value;
  if (HAS_BIAS) { v += bias[channel]; }
  let index = ((n / IN_VOXELS) * IN_CHANNELS + channel) * IN_VOXELS + n % IN_VOXELS;
  dx[index] = finish(v, channel, index);
}
