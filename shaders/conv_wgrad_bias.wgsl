// The bias gradient computed by conv_wgrad_direct.wgsl next to the weight gradient: every
// thread sums the dy values it loads anyway, and the thread of each channel block's first
// weight block stores its sums, so the bias gradient costs no pass of its own over dy.

// Partial bias gradients: [SPLITS, OUT_CHANNELS]; with one split this is the bias gradient.
@group(0) @binding(3) var<storage, read_write> bias_partial: array<f32>;

const HAS_BIAS = true;

// Stores split `split`'s sums of dy for output channels m0 to m0 + M_BLOCK - 1.
fn store_bias(split: u32, m0: u32, sums: array<f32, M_BLOCK>) {
  for (var m = 0u; m < M_BLOCK; m++) {
    bias_partial[split * OUT_CHANNELS + m0 + m] = sums[m];
  }
}
