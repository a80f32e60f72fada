// One Adam or AdamW step on one parameter tensor, in place, as torch.optim.Adam and AdamW
// compute it:
//   AdamW: param *= 1 - lr * weight_decay;  Adam: g = grad + weight_decay * param
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   AMSGrad: v_max = max(v_max, v), used for v below
//   param -= (lr / bias_correction1) * m / (sqrt(v) / sqrt(bias_correction2) + eps)
// T is vec4f when the element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values.
const COUNT = {{COUNT}};
// true: AdamW's decoupled weight decay; false: Adam's L2 term on the gradient.
const DECOUPLED = {{DECOUPLED}};
const AMSGRAD = {{AMSGRAD}};
const MAXIMIZE = {{MAXIMIZE}};

// Hyper-parameters the host writes before each step; the bias corrections depend on it.
struct Hyper {
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32,
  // lr / (1 - beta1^step).
  step_size: f32,
  // sqrt(1 - beta2^step).
  bias_correction2_sqrt: f32,
}

// Parameter, updated in place.
@group(0) @binding(0) var<storage, read_write> param: array<T>;
// Its gradient.
@group(0) @binding(1) var<storage, read> grad: array<T>;
// First moment (exp_avg), zero before the first step.
@group(0) @binding(2) var<storage, read_write> exp_avg: array<T>;
// Second moment (exp_avg_sq), zero before the first step.
@group(0) @binding(3) var<storage, read_write> exp_avg_sq: array<T>;
// AMSGrad's running maximum of exp_avg_sq; not read without AMSGrad, so any buffer may be
// bound then.
@group(0) @binding(4) var<storage, read_write> max_exp_avg_sq: array<T>;
@group(0) @binding(5) var<uniform> hyper: Hyper;

// 256 threads, one T each: the update is memory-bound.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  var p = param[i];
  var g = select(grad[i], -grad[i], MAXIMIZE);
  if (DECOUPLED) {
    p = p * (1.0 - hyper.lr * hyper.weight_decay);
  } else {
    g = g + hyper.weight_decay * p;
  }
  let m = hyper.beta1 * exp_avg[i] + (1.0 - hyper.beta1) * g;
  var v = hyper.beta2 * exp_avg_sq[i] + (1.0 - hyper.beta2) * g * g;
  exp_avg[i] = m;
  exp_avg_sq[i] = v;
  if (AMSGRAD) {
    v = max(max_exp_avg_sq[i], v);
    max_exp_avg_sq[i] = v;
  }
  let denom = sqrt(v) / hyper.bias_correction2_sqrt + hyper.eps;
  param[i] = p - hyper.step_size * m / denom;
}
