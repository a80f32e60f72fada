// One Adadelta step on one parameter tensor, in place, as torch.optim.Adadelta computes it:
//   g = grad + weight_decay * param;  s = rho * s + (1 - rho) * g * g
//   delta = sqrt(u + eps) / sqrt(s + eps) * g;  u = rho * u + (1 - rho) * delta * delta
//   param -= lr * delta
// T is vec4f when the element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values.
const COUNT = {{COUNT}};
const MAXIMIZE = {{MAXIMIZE}};

// Hyper-parameters the host writes before each step.
struct Hyper {
  lr: f32,
  rho: f32,
  eps: f32,
  weight_decay: f32,
}

// Parameter, updated in place.
@group(0) @binding(0) var<storage, read_write> param: array<T>;
// Its gradient.
@group(0) @binding(1) var<storage, read> grad: array<T>;
// Running average of squared gradients, zero before the first step.
@group(0) @binding(2) var<storage, read_write> square_avg: array<T>;
// Running average of squared updates, zero before the first step.
@group(0) @binding(3) var<storage, read_write> acc_delta: array<T>;
@group(0) @binding(4) var<uniform> hyper: Hyper;

// 256 threads, one T each: the update is memory-bound.
@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_workgroup(wid, nwg) * 256u + lid;
  if (i >= COUNT) { return; }
  let p = param[i];
  let g = select(grad[i], -grad[i], MAXIMIZE) + hyper.weight_decay * p;
  let s = hyper.rho * square_avg[i] + (1.0 - hyper.rho) * g * g;
  square_avg[i] = s;
  let delta = sqrt(acc_delta[i] + hyper.eps) / sqrt(s + hyper.eps) * g;
  acc_delta[i] = hyper.rho * acc_delta[i] + (1.0 - hyper.rho) * delta * delta;
  param[i] = p - hyper.lr * delta;
}
