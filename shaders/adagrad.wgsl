// One Adagrad step on one parameter tensor, in place, as torch.optim.Adagrad computes it:
//   g = grad + weight_decay * param;  sum += g * g
//   param -= clr * g / (sqrt(sum) + eps), clr = lr / (1 + (step - 1) * lr_decay)
// T is vec4f when the element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values.
const COUNT = {{COUNT}};
const MAXIMIZE = {{MAXIMIZE}};

// Hyper-parameters the host writes before each step.
struct Hyper {
  // lr / (1 + (step - 1) * lr_decay).
  clr: f32,
  eps: f32,
  weight_decay: f32,
}

// Parameter, updated in place.
@group(0) @binding(0) var<storage, read_write> param: array<T>;
// Its gradient.
@group(0) @binding(1) var<storage, read> grad: array<T>;
// Sum of squared gradients, initial_accumulator_value before the first step.
@group(0) @binding(2) var<storage, read_write> state_sum: array<T>;
@group(0) @binding(3) var<uniform> hyper: Hyper;

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
  let s = state_sum[i] + g * g;
  state_sum[i] = s;
  param[i] = p - hyper.clr * g / (sqrt(s) + hyper.eps);
}
