// Batch norm's running statistics, one thread per channel. Training: blends the batch
// statistics into the running ones with PyTorch's momentum rule, using the unbiased variance
// (times n / (n - 1)) as PyTorch does. Evaluation: writes the statistics that
// norm-apply.wgsl reads from the running ones.

const CHANNELS = {{CHANNELS}};
// true: update the running statistics; false: write stats from them.
const TRAINING = {{TRAINING}};
const MOMENTUM = {{MOMENTUM}};
// n / (n - 1) for n elements per channel.
const UNBIAS = {{UNBIAS}};
const EPS = {{EPS}};

// [mean, invstd, variance] per channel: read when training, written in evaluation.
@group(0) @binding(0) var<storage, read_write> stats: array<f32>;
// running_mean, updated when training.
@group(0) @binding(1) var<storage, read_write> running_mean: array<f32>;
// running_var, updated when training.
@group(0) @binding(2) var<storage, read_write> running_var: array<f32>;

// 64 threads: there are only as many threads as channels.
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let c = id.x;
  if (c >= CHANNELS) { return; }
  if (TRAINING) {
    running_mean[c] = (1.0 - MOMENTUM) * running_mean[c] + MOMENTUM * stats[c];
    let unbiased = stats[2u * CHANNELS + c] * UNBIAS;
    running_var[c] = (1.0 - MOMENTUM) * running_var[c] + MOMENTUM * unbiased;
  } else {
    stats[c] = running_mean[c];
    stats[CHANNELS + c] = 1.0 / sqrt(running_var[c] + EPS);
    stats[2u * CHANNELS + c] = running_var[c];
  }
}
