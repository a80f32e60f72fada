// Batch-norm statistics of an input split into runs of samples (src/kernels/split.ts): merges
// the per-plane statistics of one run into each channel's running (mean, M2), one plane at a
// time in sample order with Chan et al.'s pairwise update, so every run gives the same bits.
// The first run starts each channel afresh, and the last turns M2 into the biased variance and
// 1 / sqrt(variance + eps), as norm-stats.wgsl writes them.

const CHANNELS = {{CHANNELS}};
// Samples in this run, and in the runs merged before it.
const SAMPLES = {{SAMPLES}};
const BEFORE = {{BEFORE}};
// Elements per (sample, channel) plane.
const PLANE = {{PLANE}};
const FIRST = {{FIRST}};
const LAST = {{LAST}};
const EPS = {{EPS}};

// Statistics of each plane of the run, as norm-stats.wgsl writes them for instance norm:
// [mean, invstd, biased variance] of plane (s, c) at s * CHANNELS + c, 3 * SAMPLES * CHANNELS.
@group(0) @binding(0) var<storage, read> planes: array<f32>;
// [mean, invstd, biased variance] per channel; between runs, [mean, unused, M2].
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;

// 64 threads, one channel each: channels are few, and each thread reads SAMPLES planes.
@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let c = linear_workgroup(wid, nwg) * 64u + lid;
  if (c >= CHANNELS) { return; }
  var mean = 0.0;
  var m2 = 0.0;
  var count = 0.0;
  if (!FIRST) {
    mean = stats[c];
    m2 = stats[2u * CHANNELS + c];
    count = f32(BEFORE) * f32(PLANE);
  }
  let groups = SAMPLES * CHANNELS;
  let n = f32(PLANE);
  for (var s = 0u; s < SAMPLES; s++) {
    let g = s * CHANNELS + c;
    let total = count + n;
    let delta = planes[g] - mean;
    mean += delta * (n / total);
    m2 += planes[2u * groups + g] * n + delta * delta * (count * n / total);
    count = total;
  }
  stats[c] = mean;
  if (LAST) {
    let variance = m2 / count;
    stats[CHANNELS + c] = 1.0 / sqrt(variance + EPS);
    stats[2u * CHANNELS + c] = variance;
  } else {
    stats[2u * CHANNELS + c] = m2;
  }
}
