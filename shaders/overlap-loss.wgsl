// Turns the overlap sums into the loss of Dice, generalized Dice or Tversky (as MONAI
// defines them) and into the loss's derivatives with respect to each (n, c) pair's
// intersection and prediction sum, which overlap-backward.wgsl spreads over the voxels. One
// thread does it all: there are only N * C pairs.

const N = {{N}};
const C = {{C}};
// 0: Dice, 1: generalized Dice, 2: Tversky.
const KIND = {{KIND}};
// false: class 0 (background) is left out of the loss.
const INCLUDE_BACKGROUND = {{INCLUDE_BACKGROUND}};
// Dice: sum p * p instead of p in the denominator.
const SQUARED = {{SQUARED}};
// Dice: the Jaccard index instead of the Dice coefficient.
const JACCARD = {{JACCARD}};
// true: sums over the whole batch, one score per class (per batch for generalized Dice).
const BATCH = {{BATCH}};
// 0: 'none', 1: 'sum', 2: 'mean' over the scores.
const REDUCTION = {{REDUCTION}};
const SMOOTH_NR = {{SMOOTH_NR}};
const SMOOTH_DR = {{SMOOTH_DR}};
// Tversky's weights of false positives and false negatives.
const ALPHA = {{ALPHA}};
const BETA = {{BETA}};
// Generalized Dice's class weights: 0 uniform, 1 1 / G, 2 1 / G^2.
const WEIGHT_TYPE = {{WEIGHT_TYPE}};

// [intersection, prediction sum, squared prediction sum, ground-truth sum] per (n, c).
@group(0) @binding(0) var<storage, read> sums: array<vec4f>;
// Output gradient: [1] for 'sum' and 'mean', one per score for 'none'.
@group(0) @binding(1) var<storage, read> dloss: array<f32>;
// The loss: [1], or one value per score for 'none'.
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
// d loss / d intersection and d loss / d prediction sum per (n, c), times dloss: 2 * N * C.
@group(0) @binding(3) var<storage, read_write> coefficients: array<vec2f>;

// Sums of pair (n, c), or of class c over the batch.
fn unit_sums(n: u32, c: u32) -> vec4f {
  if (!BATCH) { return sums[n * C + c]; }
  var total = vec4f(0.0);
  for (var k = 0u; k < N; k++) { total += sums[k * C + c]; }
  return total;
}

fn class_weight(ground: f32) -> f32 {
  if (WEIGHT_TYPE == 0u) { return 1.0; }
  if (WEIGHT_TYPE == 1u) { return 1.0 / ground; }
  return 1.0 / (ground * ground);
}

fn upstream(score: u32, scores: u32) -> f32 {
  if (REDUCTION == 0u) { return dloss[score]; }
  if (REDUCTION == 1u) { return dloss[0]; }
  return dloss[0] / f32(scores);
}

// Writes the loss of one Dice or Tversky score and its coefficients to pairs (n, c) for
// every n in [n_first, n_last).
fn overlap_score(n: u32, c: u32, score: u32, scores: u32) -> f32 {
  let s = unit_sums(n, c);
  let pred = select(s.y, s.z, SQUARED && KIND == 0u);
  var value = 0.0;
  var d_inter = 0.0;
  var d_pred = 0.0;
  if (KIND == 0u) {
    var den = s.w + pred;
    if (JACCARD) { den = 2.0 * (den - s.x); }
    let num = 2.0 * s.x + SMOOTH_NR;
    let q = den + SMOOTH_DR;
    value = 1.0 - num / q;
    d_pred = num / (q * q) * select(1.0, 2.0, JACCARD);
    d_inter = select(-2.0 / q, -(2.0 * q + 2.0 * num) / (q * q), JACCARD);
  } else {
    let num = s.x + SMOOTH_NR;
    let q = s.x * (1.0 - ALPHA - BETA) + ALPHA * s.y + BETA * s.w + SMOOTH_DR;
    value = 1.0 - num / q;
    d_inter = -(q - num * (1.0 - ALPHA - BETA)) / (q * q);
    d_pred = num * ALPHA / (q * q);
  }
  let g = upstream(score, scores);
  let first = select(n, 0u, BATCH);
  let last = select(n + 1u, N, BATCH);
  for (var k = first; k < last; k++) { coefficients[k * C + c] = vec2f(d_inter, d_pred) * g; }
  return value;
}

// Generalized Dice over the classes of sample n (or of the batch); returns the loss.
fn generalized_score(n: u32, score: u32, scores: u32) -> f32 {
  let first_class = select(1u, 0u, INCLUDE_BACKGROUND);
  // Classes absent from the ground truth get the largest finite weight, as MONAI does.
  var max_weight = 0.0;
  for (var c = first_class; c < C; c++) {
    let w = class_weight(unit_sums(n, c).w);
    if (unit_sums(n, c).w > 0.0 || WEIGHT_TYPE == 0u) { max_weight = max(max_weight, w); }
  }
  var num = 0.0;
  var den = 0.0;
  for (var c = first_class; c < C; c++) {
    let s = unit_sums(n, c);
    let w = select(max_weight, class_weight(s.w), s.w > 0.0 || WEIGHT_TYPE == 0u);
    num += w * s.x;
    den += w * (s.w + s.y);
  }
  num = 2.0 * num + SMOOTH_NR;
  den += SMOOTH_DR;
  let g = upstream(score, scores);
  for (var c = first_class; c < C; c++) {
    let s = unit_sums(n, c);
    let w = select(max_weight, class_weight(s.w), s.w > 0.0 || WEIGHT_TYPE == 0u);
    let first = select(n, 0u, BATCH);
    let last = select(n + 1u, N, BATCH);
    for (var k = first; k < last; k++) {
      coefficients[k * C + c] = vec2f(-2.0 * w / den, w * num / (den * den)) * g;
    }
  }
  return 1.0 - num / den;
}

@compute @workgroup_size(1)
fn main() {
  for (var k = 0u; k < N * C; k++) { coefficients[k] = vec2f(0.0); }
  let first_class = select(1u, 0u, INCLUDE_BACKGROUND);
  let classes = C - first_class;
  let samples = select(N, 1u, BATCH);
  var total = 0.0;
  if (KIND == 1u) {
    for (var n = 0u; n < samples; n++) {
      let value = generalized_score(n, n, samples);
      total += value;
      if (REDUCTION == 0u) { loss[n] = value; }
    }
    if (REDUCTION != 0u) { loss[0] = select(total, total / f32(samples), REDUCTION == 2u); }
    return;
  }
  let scores = samples * classes;
  for (var n = 0u; n < samples; n++) {
    for (var c = first_class; c < C; c++) {
      let score = n * classes + c - first_class;
      let value = overlap_score(n, c, score, scores);
      total += value;
      if (REDUCTION == 0u) { loss[score] = value; }
    }
  }
  if (REDUCTION != 0u) { loss[0] = select(total, total / f32(scores), REDUCTION == 2u); }
}
