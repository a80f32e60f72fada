// The weights of conv_forward_direct.wgsl read from the weight tensor as stored, for layers
// whose packed weights (conv_weight_packed.wgsl) do not apply.

// Weight: [OUT_CHANNELS, GROUP_IN, KERNEL_D, KERNEL_H, KERNEL_W].
@group(0) @binding(1) var<storage, read> weight: array<f32>;

// True when the kernel computes the input gradient of a stride-1 convolution as a forward
// convolution of dy. `weight` is then the original convolution's weight, read with input and
// output channels swapped and every kernel axis reversed.
const TRANSPOSED_WEIGHT = {{TRANSPOSED_WEIGHT}};

// Weight of output channel m0 + m, input channel c of its group and tap kd, kh, kw.
fn block_weight(m0: u32, m: u32, c: u32, kd: u32, kh: u32, kw: u32) -> f32 {
  let channel = m0 + m;
  if (TRANSPOSED_WEIGHT) {
    let group = channel / GROUP_OUT;
    let flipped_row = (KERNEL_D - 1u - kd) * KERNEL_H + KERNEL_H - 1u - kh;
    let flipped = flipped_row * KERNEL_W + KERNEL_W - 1u - kw;
    let row = (group * GROUP_IN + c) * GROUP_OUT + channel % GROUP_OUT;
    return weight[row * KERNEL_VOLUME + flipped];
  }
  let row = (channel + OUT_CHANNEL_BASE) * GROUP_IN + c;
  return weight[((row * KERNEL_D + kd) * KERNEL_H + kh) * KERNEL_W + kw];
}
