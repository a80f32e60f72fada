// One SGD step on one parameter tensor, in place, as torch.optim.SGD computes it:
//   g = grad (negated to maximize) + weight_decay * param
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   g = g + momentum * buf with Nesterov, else buf (when momentum is on)
//   param -= lr * g
// T is vec4f when the element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values.
const COUNT = {{COUNT}};
const USE_MOMENTUM = {{USE_MOMENTUM}};
const NESTEROV = {{NESTEROV}};
const MAXIMIZE = {{MAXIMIZE}};

// Hyper-parameters the host writes before each step, so schedules need no recompilation.
struct Hyper {
  lr: f32,
  momentum: f32,
  dampening: f32,
  weight_decay: f32,
  // 1 on the first step (the momentum buffer starts as the gradient), else 0.
  first_step: f32,
}

// Parameter, updated in place.
@group(0) @binding(0) var<storage, read_write> param: array<T>;
// Its gradient.
@group(0) @binding(1) var<storage, read> grad: array<T>;
// Momentum buffer, same size; not read without momentum, so any buffer may be bound then.
@group(0) @binding(2) var<storage, read_write> momentum_buffer: array<T>;
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
  var g = select(grad[i], -grad[i], MAXIMIZE) + hyper.weight_decay * p;
  if (USE_MOMENTUM) {
    var buf = g;
    if (hyper.first_step == 0.0) {
      buf = hyper.momentum * momentum_buffer[i] + (1.0 - hyper.dampening) * g;
    }
    momentum_buffer[i] = buf;
    g = select(buf, g + hyper.momentum * buf, NESTEROV);
  }
  param[i] = p - hyper.lr * g;
}
