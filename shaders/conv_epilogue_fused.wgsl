// The end of a convolution's epilogue with an eval-mode batch norm and a residual tensor
// folded into it: y = activate(norm(v) + residual[index]). The norm is computed as
// norm-apply.wgsl computes it, so fused and unfused programs round the same way.
// `channel` counts from OUT_CHANNEL_BASE, because a convolution split by output channels
// runs each channel group as a dispatch of its own (src/kernels/split-conv.ts).

// [mean, invstd, variance] per output channel of the whole convolution, written by
// bn-running.wgsl in evaluation; bound whole, so it holds 3 values per channel.
@group(0) @binding(4) var<storage, read> norm_stats: array<f32>;
// The norm's weight (gamma), one value per output channel; unread unless NORM_AFFINE.
@group(0) @binding(5) var<storage, read> norm_weight: array<f32>;
// The norm's bias (beta), one value per output channel; unread unless NORM_AFFINE.
@group(0) @binding(6) var<storage, read> norm_bias: array<f32>;
// The residual, the output's shape and window; unread unless HAS_RESIDUAL.
@group(0) @binding(7) var<storage, read> residual: array<f32>;

const HAS_NORM = {{HAS_NORM}};
const NORM_AFFINE = {{NORM_AFFINE}};
const HAS_RESIDUAL = {{HAS_RESIDUAL}};

fn finish(v: f32, channel: u32, index: u32) -> f32 {
  var result = v;
  if (HAS_NORM) {
    let c = OUT_CHANNEL_BASE + channel;
    let channels = arrayLength(&norm_stats) / 3u;
    result = (result - norm_stats[c]) * norm_stats[channels + c];
    if (NORM_AFFINE) { result = result * norm_weight[c] + norm_bias[c]; }
  }
  if (HAS_RESIDUAL) { result += residual[index]; }
  return activate(result);
}
