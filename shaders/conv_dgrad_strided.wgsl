// Convolution input gradient for stride > 1 (and dilation 1), split into stride phases so that
// no multiply-add is spent on a kernel offset that misses every output voxel. Input voxels i
// with (i + PAD) % STRIDE == p per axis only receive dy through kernel offsets
// kd = p + jd * STRIDE, from output voxel o = t - jd where i + PAD = p + t * STRIDE.
// One GEMM per group and phase, z = group * PHASES + phase:
// M = GROUP_IN input channels, N = batch x phase positions t (T_D x T_H x T_W, some outside
// the input), K = GROUP_OUT x phase kernel offsets j (J_D x J_H x J_W, some past the kernel).
// Concatenated with conv_geometry.wgsl, matmul_epilogue.wgsl, conv_epilogue_*.wgsl (which
// defines `finish`) and matmul_tile.wgsl.

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
const PAD = vec3i(PAD_D, PAD_H, PAD_W);
const PHASES = STRIDE_D * STRIDE_H * STRIDE_W;
// Phase positions per axis: t with p + t * STRIDE - PAD < IN for some phase p.
const T_D = {{T_D}};
const T_H = {{T_H}};
const T_W = {{T_W}};
const T_VOXELS = T_D * T_H * T_W;
// Phase kernel offsets per axis: ceil(KERNEL / STRIDE).
const J_D = {{J_D}};
const J_H = {{J_H}};
const J_W = {{J_W}};
const J_VOLUME = J_D * J_H * J_W;

fn phase_of(z: u32) -> vec3u {
  let phase = z % PHASES;
  return vec3u(phase / (STRIDE_H * STRIDE_W), (phase / STRIDE_W) % STRIDE_H, phase % STRIDE_W);
}

// Input coordinates of phase position n (without the batch); negative or past the input
// when the position lies outside it.
fn phase_input(p: vec3u, n: u32) -> vec3i {
  let r = n % T_VOXELS;
  let t = vec3u(r / (T_H * T_W), (r / T_W) % T_H, r % T_W);
  return vec3i(p + t * STRIDE) - PAD;
}

fn inside_input(i: vec3i) -> bool {
  let q = vec3u(i);
  return q.x < IN_D && q.y < IN_H && q.z < IN_W;
}

// k = output channel (within the group) x phase kernel offset j.
struct KContext { channel: u32, j: vec3u }

fn k_context(k: u32) -> KContext {
  let r = k % J_VOLUME;
  return KContext(k / J_VOLUME, vec3u(r / (J_H * J_W), (r / J_W) % J_H, r % J_W));
}

fn load_a(z: u32, m: u32, kc: KContext) -> f32 {
  let kernel = phase_of(z) + kc.j * STRIDE;
  if (kernel.x >= KERNEL_D || kernel.y >= KERNEL_H || kernel.z >= KERNEL_W) { return 0.0; }
  let channel = (z / PHASES) * GROUP_OUT + kc.channel;
  let tap = (kernel.x * KERNEL_H + kernel.y) * KERNEL_W + kernel.z;
  return weight[(channel * GROUP_IN + m) * KERNEL_VOLUME + tap];
}

// n = batch x phase position t.
struct BColumn { base: u32, t: vec3i, inside: bool }

fn b_column(z: u32, n: u32) -> BColumn {
  let b = n / T_VOXELS;
  let r = n % T_VOXELS;
  let t = vec3u(r / (T_H * T_W), (r / T_W) % T_H, r % T_W);
  let base = (b * OUT_CHANNELS + (z / PHASES) * GROUP_OUT) * OUT_VOXELS;
  return BColumn(base, vec3i(t), inside_input(phase_input(phase_of(z), n)));
}

fn load_b(column: BColumn, kc: KContext) -> f32 {
  // A negative o wraps to a large u32 and fails the range check.
  let o = vec3u(column.t - vec3i(kc.j));
  if (!column.inside || o.x >= OUT_D || o.y >= OUT_H || o.z >= OUT_W) { return 0.0; }
  return dy[column.base + kc.channel * OUT_VOXELS + (o.x * OUT_H + o.y) * OUT_W + o.z];
}

fn store_c(z: u32, split: u32, m: u32, n: u32, value: f32) {
  let i = phase_input(phase_of(z), n);
  if (!inside_input(i)) { return; }
  let channel = (z / PHASES) * GROUP_IN + m;
  var v = value;
  if (HAS_BIAS) { v += bias[channel]; }
  let voxel = (u32(i.x) * IN_H + u32(i.y)) * IN_W + u32(i.z);
  let index = ((n / T_VOXELS) * IN_CHANNELS + channel) * IN_VOXELS + voxel;
  dx[index] = finish(v, channel, index);
}
