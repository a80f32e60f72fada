// Convolution forward computed directly, for layers with few input channels x kernel taps
// (the first layers of a CNN), where the implicit GEMM of conv_forward.wgsl spends more time
// gathering its input tile than multiplying. Each thread owns M_BLOCK output channels x
// W_RUN neighbouring outputs along w of one output row (batch, od, oh). Per input channel
// and kernel tap it loads M_BLOCK weights and W_RUN inputs (fewer with unit stride along w)
// for M_BLOCK x W_RUN multiply-adds. The sums run in a fixed order (channel, kd, kh, kw),
// then the bias is added and the activation applied.
// Concatenated with conv_geometry.wgsl, matmul_epilogue.wgsl, conv_epilogue_*.wgsl and
// conv_weight_*.wgsl, which binds the weights (binding 1) and defines block_weight().

// Input x: [N, IN_CHANNELS, IN_D, IN_H, IN_W].
@group(0) @binding(0) var<storage, read> x: array<f32>;
// Bias: [OUT_CHANNELS]; bound but unread when HAS_BIAS is false.
@group(0) @binding(2) var<storage, read> bias: array<f32>;
// Output y: [N, OUT_CHANNELS, OUT_D, OUT_H, OUT_W].
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const HAS_BIAS = {{HAS_BIAS}};
const M_BLOCK = {{M_BLOCK}};
const W_RUN = {{W_RUN}};
const RUNS = (OUT_W + W_RUN - 1u) / W_RUN;
const THREADS = {{THREADS}};
// True when STRIDE_W and DILATION_W are 1: the inputs of a run then form one span along w.
const CONTIGUOUS_W = STRIDE_W == 1u && DILATION_W == 1u;
const SPAN = select(1u, W_RUN + KERNEL_W - 1u, CONTIGUOUS_W);

// 64 threads: neighbouring threads own neighbouring runs of one row, so their loads of x and
// stores of y are close in memory; 64 fills lavapipe's 8-wide SIMD lanes and a GPU's warps.
@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let id = linear_workgroup(wid, nwg) * 64u + lid;
  if (id >= THREADS) { return; }
  let ow0 = (id % RUNS) * W_RUN;
  let oh = (id / RUNS) % OUT_H;
  let od = (id / (RUNS * OUT_H)) % OUT_D;
  let m_blocks = OUT_CHANNELS / M_BLOCK;
  let m0 = ((id / (RUNS * OUT_H * OUT_D)) % m_blocks) * M_BLOCK;
  let b = id / (RUNS * OUT_H * OUT_D * m_blocks);
  let group = m0 / GROUP_OUT;

  var acc: array<f32, M_BLOCK * W_RUN>;
  // One loop over (channel, kd, kh). Its bound depends on arrayLength (x is never empty), so
  // the compiler cannot unroll it and the kernel stays small. The loops inside have constant
  // bounds and unroll, which keeps acc in registers.
  let kernel_rows = select(GROUP_IN * KERNEL_D * KERNEL_H, 0u, arrayLength(&x) == 0u);
  for (var tap_row = 0u; tap_row < kernel_rows; tap_row++) {
    let kh = tap_row % KERNEL_H;
    let kd = (tap_row / KERNEL_H) % KERNEL_D;
    let c = tap_row / (KERNEL_H * KERNEL_D);
    let x_channel = (b * IN_CHANNELS + group * GROUP_IN + c) * IN_D;
    let xd = i32(od * STRIDE_D + kd * DILATION_D) - PAD_D;
    let xh = i32(oh * STRIDE_H + kh * DILATION_H) - PAD_H;
    if (xd < 0 || xd >= i32(IN_D) || xh < 0 || xh >= i32(IN_H)) { continue; }
    let x_row = ((x_channel + u32(xd)) * IN_H + u32(xh)) * IN_W;
    // With unit stride and dilation along w, the run's taps read one span of inputs,
    // loaded once and reused by every kw.
    var span: array<f32, SPAN>;
    if (CONTIGUOUS_W) {
      for (var j = 0u; j < SPAN; j++) {
        let xw = i32(ow0 + j) - PAD_W;
        let ok = xw >= 0 && xw < i32(IN_W);
        span[j] = select(0.0, x[x_row + u32(select(0, xw, ok))], ok);
      }
    }
    for (var kw = 0u; kw < KERNEL_W; kw++) {
      var w: array<f32, M_BLOCK>;
      for (var m = 0u; m < M_BLOCK; m++) {
        w[m] = block_weight(m0, m, c, kd, kh, kw);
      }
      for (var r = 0u; r < W_RUN; r++) {
        var value: f32;
        if (CONTIGUOUS_W) {
          value = span[r + kw];
        } else {
          let xw = i32((ow0 + r) * STRIDE_W + kw * DILATION_W) - PAD_W;
          let ok = xw >= 0 && xw < i32(IN_W);
          value = select(0.0, x[x_row + u32(select(0, xw, ok))], ok);
        }
        for (var m = 0u; m < M_BLOCK; m++) {
          acc[m * W_RUN + r] = fma(w[m], value, acc[m * W_RUN + r]);
        }
      }
    }
  }

  for (var m = 0u; m < M_BLOCK; m++) {
    var shift = 0.0;
    if (HAS_BIAS) { shift = bias[OUT_CHANNEL_BASE + m0 + m]; }
    let y_row = (((b * OUT_CHANNELS + m0 + m) * OUT_D + od) * OUT_H + oh) * OUT_W;
    for (var r = 0u; r < W_RUN; r++) {
      let index = y_row + ow0 + r;
      if (ow0 + r < OUT_W) { y[index] = finish(acc[m * W_RUN + r] + shift, m0 + m, index); }
    }
  }
}
