// Geometry constants shared by the convolution operand files. Every convolution runs as 3D:
// 1D and 2D ones have unit D (and H) axes. Layouts are PyTorch's: activations
// [N, C, D, H, W], weights [OUT_CHANNELS, GROUP_IN, KERNEL_D, KERNEL_H, KERNEL_W].
const IN_CHANNELS = {{IN_CHANNELS}};
const OUT_CHANNELS = {{OUT_CHANNELS}};
// Channels per group on the input and the output side.
const GROUP_IN = {{GROUP_IN}};
const GROUP_OUT = {{GROUP_OUT}};
// First output channel of the weight and bias rows that this dispatch computes: non-zero
// when a convolution too large for one binding runs as one dispatch per channel group.
const OUT_CHANNEL_BASE = {{OUT_CHANNEL_BASE}};
const IN_D = {{IN_D}};
const IN_H = {{IN_H}};
const IN_W = {{IN_W}};
const OUT_D = {{OUT_D}};
const OUT_H = {{OUT_H}};
const OUT_W = {{OUT_W}};
const KERNEL_D = {{KERNEL_D}};
const KERNEL_H = {{KERNEL_H}};
const KERNEL_W = {{KERNEL_W}};
const STRIDE_D = {{STRIDE_D}};
const STRIDE_H = {{STRIDE_H}};
const STRIDE_W = {{STRIDE_W}};
const DILATION_D = {{DILATION_D}};
const DILATION_H = {{DILATION_H}};
const DILATION_W = {{DILATION_W}};
// Padding before the first element of each axis (the padding after only sets OUT_*).
const PAD_D = {{PAD_D}};
const PAD_H = {{PAD_H}};
const PAD_W = {{PAD_W}};
const IN_VOXELS = IN_D * IN_H * IN_W;
const OUT_VOXELS = OUT_D * OUT_H * OUT_W;
const KERNEL_VOLUME = KERNEL_D * KERNEL_H * KERNEL_W;

// Splits a kernel offset (< KERNEL_VOLUME) into dilated per-axis offsets.
fn kernel_offsets(r: u32) -> vec3i {
  let kd = r / (KERNEL_H * KERNEL_W);
  let kh = (r / KERNEL_W) % KERNEL_H;
  let kw = r % KERNEL_W;
  return vec3i(vec3u(kd * DILATION_D, kh * DILATION_H, kw * DILATION_W));
}

// Splits an output voxel index (< OUT_VOXELS) into [d, h, w].
fn output_coords(o: u32) -> vec3u {
  return vec3u(o / (OUT_H * OUT_W), (o / OUT_W) % OUT_H, o % OUT_W);
}

// Splits an input voxel index (< IN_VOXELS) into [d, h, w].
fn input_coords(i: u32) -> vec3u {
  return vec3u(i / (IN_H * IN_W), (i / IN_W) % IN_H, i % IN_W);
}

// Input offset of the voxel at padded coordinates p, or -1 when p lies in the zero padding.
fn input_offset(p: vec3i) -> i32 {
  let q = vec3u(p);
  // A negative coordinate wraps to a large u32, so one comparison per axis checks both ends.
  if (q.x >= IN_D || q.y >= IN_H || q.z >= IN_W) { return -1; }
  return i32((q.x * IN_H + q.y) * IN_W + q.z);
}
