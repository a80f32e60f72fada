// Convolution weight gradient computed directly, for layers with few input channels (the
// first layer of a CNN) where the implicit GEMM of conv_wgrad.wgsl reloads each input value
// once per kernel tap. Each thread owns a block of weights, M_BLOCK output channels x TAPS_H
// kernel rows x KERNEL_W kernel columns of one input channel and one kernel plane kd, and
// walks ROWS_PER_SPLIT output rows (batch, od, oh) along ow. Per output voxel it loads
// M_BLOCK output gradients and TAPS_H x KERNEL_W inputs for M_BLOCK x TAPS_H x KERNEL_W
// multiply-adds. Split s writes its sums to slice s of `partial`, and conv_wgrad_reduce.wgsl
// adds the slices in order, so the result has the same bits on every run.
// Concatenated with conv_geometry.wgsl and conv_wgrad_bias.wgsl (which also sums the bias
// gradient) or conv_wgrad_no_bias.wgsl.

// Output gradient dy: [N, OUT_CHANNELS, OUT_D, OUT_H, OUT_W].
@group(0) @binding(0) var<storage, read> dy: array<f32>;
// Input x: [N, IN_CHANNELS, IN_D, IN_H, IN_W].
@group(0) @binding(1) var<storage, read> x: array<f32>;
// Partial weight gradients: [SPLITS, OUT_CHANNELS, GROUP_IN, KERNEL_D, KERNEL_H, KERNEL_W];
// with one split this is the weight gradient itself.
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

const M_BLOCK = {{M_BLOCK}};
// KERNEL_H, or 1 when a block of M_BLOCK x KERNEL_H x KERNEL_W accumulators would not fit.
const TAPS_H = {{TAPS_H}};
const TAPS = TAPS_H * KERNEL_W;
const SPLITS = {{SPLITS}};
const ROWS_PER_SPLIT = {{ROWS_PER_SPLIT}};
const ROWS = {{ROWS}};
// Weight blocks: groups x (GROUP_OUT / M_BLOCK) x GROUP_IN x KERNEL_D x (KERNEL_H / TAPS_H).
const BLOCKS = {{BLOCKS}};
const WEIGHT_COUNT = OUT_CHANNELS * GROUP_IN * KERNEL_VOLUME;
// True when STRIDE_W and DILATION_W are 1 (see the sliding window below).
const CONTIGUOUS_W = STRIDE_W == 1u && DILATION_W == 1u;

// x at column xw of the input row that starts at `row`; 0 when the row (-1) or the column
// lies in the padding.
fn input_at(row: i32, xw: i32) -> f32 {
  let ok = row >= 0 && xw >= 0 && xw < i32(IN_W);
  return select(0.0, x[u32(select(0, row + xw, ok))], ok);
}

// 64 threads: neighbouring threads own different weight blocks of the same rows or the same
// block of neighbouring splits, and 64 fills lavapipe's 8-wide SIMD lanes and a GPU's warps.
@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let id = linear_workgroup(wid, nwg) * 64u + lid;
  if (id >= SPLITS * BLOCKS) { return; }
  let split = id / BLOCKS;
  var block = id % BLOCKS;
  let row_end = min(ROWS, (split + 1u) * ROWS_PER_SPLIT);
  let kh0 = (block % (KERNEL_H / TAPS_H)) * TAPS_H;
  block /= KERNEL_H / TAPS_H;
  let kd = block % KERNEL_D;
  block /= KERNEL_D;
  let channel = block % GROUP_IN;
  block /= GROUP_IN;
  // First output channel of the block; GROUP_OUT is a multiple of M_BLOCK.
  let m0 = block * M_BLOCK;
  let group = m0 / GROUP_OUT;
  let x_channel = group * GROUP_IN + channel;

  var acc: array<f32, M_BLOCK * TAPS>;
  // Sums of dy per channel, for the bias gradient. Every thread adds them, so they cost no
  // branch, and only the first weight block of each channel block stores them.
  var bias_sums: array<f32, M_BLOCK>;
  let stores_bias = HAS_BIAS && channel == 0u && kd == 0u && kh0 == 0u;
  for (var row = split * ROWS_PER_SPLIT; row < row_end; row++) {
    let oh = row % OUT_H;
    let od = (row / OUT_H) % OUT_D;
    let b = row / (OUT_H * OUT_D);
    let xd = i32(od * STRIDE_D + kd * DILATION_D) - PAD_D;
    let plane_ok = xd >= 0 && xd < i32(IN_D);
    // Without a bias gradient a row whose input plane lies in the padding adds nothing. With
    // one, its dy values still count, and its inputs read as zeros.
    if (!HAS_BIAS && !plane_ok) { continue; }
    // Offset of each kernel row's input row, or -1 when it lies in the padding.
    var x_rows: array<i32, TAPS_H>;
    for (var t = 0u; t < TAPS_H; t++) {
      let xh = i32(oh * STRIDE_H + (kh0 + t) * DILATION_H) - PAD_H;
      let base = i32(((b * IN_CHANNELS + x_channel) * IN_D + u32(max(xd, 0))) * IN_H) + xh;
      x_rows[t] = select(-1, base * i32(IN_W), plane_ok && xh >= 0 && xh < i32(IN_H));
    }
    let dy_row = ((b * OUT_CHANNELS + m0) * OUT_D + od) * OUT_H + oh;
    // With unit stride and dilation along w, the inputs of neighbouring outputs overlap: the
    // window of KERNEL_W inputs per kernel row slides by one each step, so each step loads
    // one new input per kernel row instead of KERNEL_W. The window starts one step early.
    var window: array<f32, TAPS>;
    if (CONTIGUOUS_W) {
      for (var t = 0u; t < TAPS_H; t++) {
        for (var k = 0u; k + 1u < KERNEL_W; k++) {
          window[t * KERNEL_W + k + 1u] = input_at(x_rows[t], i32(k) - PAD_W);
        }
      }
    }
    // The bound comes through arrayLength (dy holds at least OUT_W values), so the compiler
    // cannot unroll this loop and the kernel stays small.
    let row_length = min(OUT_W, arrayLength(&dy));
    for (var ow = 0u; ow < row_length; ow++) {
      var g: array<f32, M_BLOCK>;
      for (var m = 0u; m < M_BLOCK; m++) {
        g[m] = dy[(dy_row + m * OUT_D * OUT_H) * OUT_W + ow];
        if (HAS_BIAS) { bias_sums[m] += g[m]; }
      }
      if (CONTIGUOUS_W) {
        for (var t = 0u; t < TAPS_H; t++) {
          for (var k = 0u; k + 1u < KERNEL_W; k++) {
            window[t * KERNEL_W + k] = window[t * KERNEL_W + k + 1u];
          }
          let xw = i32(ow + KERNEL_W - 1u) - PAD_W;
          window[t * KERNEL_W + KERNEL_W - 1u] = input_at(x_rows[t], xw);
        }
      }
      for (var kw = 0u; kw < KERNEL_W; kw++) {
        let xw = i32(ow * STRIDE_W + kw * DILATION_W) - PAD_W;
        for (var t = 0u; t < TAPS_H; t++) {
          let tap = t * KERNEL_W + kw;
          var value: f32;
          if (CONTIGUOUS_W) {
            value = window[tap];
          } else {
            value = input_at(x_rows[t], xw);
          }
          for (var m = 0u; m < M_BLOCK; m++) {
            acc[m * TAPS + tap] = fma(g[m], value, acc[m * TAPS + tap]);
          }
        }
      }
    }
  }

  if (stores_bias) { store_bias(split, m0, bias_sums); }
  for (var m = 0u; m < M_BLOCK; m++) {
    let taps_offset = (kd * KERNEL_H + kh0) * KERNEL_W;
    let weight = ((m0 + m) * GROUP_IN + channel) * KERNEL_VOLUME + taps_offset;
    for (var e = 0u; e < TAPS; e++) {
      partial[split * WEIGHT_COUNT + weight + e] = acc[m * TAPS + e];
    }
  }
}
