// The weights of conv_forward_direct.wgsl read from the table that conv_pack_weight.wgsl
// writes: one row per (group, input channel of the group, kd, kh, kw) of ROW_LENGTH output
// channels, bound as a uniform buffer. A thread's M_BLOCK weights of one tap are then
// M_BLOCK / 4 aligned vectors with a fixed component each. On lavapipe, whose storage loads
// run lane by lane with a bounds check each, these loads made the kernel about twice as fast.

@group(0) @binding(1) var<uniform> packed: array<vec4<f32>, {{PACKED_VECTORS}}>;

// Output channels per row: those of a group of the whole layer, a multiple of 4. A dispatch
// that computes one run of channels (OUT_CHANNEL_BASE on) has fewer in GROUP_OUT.
const ROW_LENGTH = {{ROW_LENGTH}};

// Weight of output channel m0 + m, input channel c of its group and tap kd, kh, kw. M_BLOCK
// and OUT_CHANNEL_BASE are multiples of 4, so `first` is too.
fn block_weight(m0: u32, m: u32, c: u32, kd: u32, kh: u32, kw: u32) -> f32 {
  let channel = OUT_CHANNEL_BASE + m0;
  let tap = (kd * KERNEL_H + kh) * KERNEL_W + kw;
  let row = ((channel / ROW_LENGTH) * GROUP_IN + c) * KERNEL_VOLUME + tap;
  let first = row * ROW_LENGTH + channel % ROW_LENGTH;
  return packed[first / 4u + m / 4u][m % 4u];
}
