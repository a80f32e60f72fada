// The end of a convolution's epilogue with an eval-mode batch norm and a residual tensor
// folded into it: y = activate(norm(v) + residual[index]). The norm is computed as
// norm-apply.wgsl computes it, so fused and unfused programs round the same way.

// [mean, invstd, variance] per output channel, written by bn-running.wgsl in evaluation.
@group(0) @binding(4) var<storage, read> norm_stats: array<f32>;
// The norm's weight (gamma), OUT_CHANNELS values; unread unless NORM_AFFINE.
@group(0) @binding(5) var<storage, read> norm_weight: array<f32>;
// The norm's bias (beta), OUT_CHANNELS values; unread unless NORM_AFFINE.
@group(0) @binding(6) var<storage, read> norm_bias: array<f32>;
// The residual, the output's shape; unread unless HAS_RESIDUAL.
@group(0) @binding(7) var<storage, read> residual: array<f32>;

const HAS_NORM = {{HAS_NORM}};
const NORM_AFFINE = {{NORM_AFFINE}};
const HAS_RESIDUAL = {{HAS_RESIDUAL}};

fn finish(v: f32, channel: u32, index: u32) -> f32 {
  var result = v;
  if (HAS_NORM) {
    result = (result - norm_stats[channel]) * norm_stats[OUT_CHANNELS + channel];
    if (NORM_AFFINE) { result = result * norm_weight[channel] + norm_bias[channel]; }
  }
  if (HAS_RESIDUAL) { result += residual[index]; }
  return activate(result);
}
