// The end of a convolution's epilogue when no norm or residual is folded into it: the
// activation only. conv_epilogue_fused.wgsl defines the same function with extra operands.
fn finish(v: f32, channel: u32, index: u32) -> f32 {
  return activate(v);
}
