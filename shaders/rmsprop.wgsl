// One RMSprop step on one parameter tensor, in place, as torch.optim.RMSprop computes it:
//   g = grad + weight_decay * param;  s = alpha * s + (1 - alpha) * g * g
//   centered: a = alpha * a + (1 - alpha) * g, avg = sqrt(s - a * a) + eps
//   else avg = sqrt(s) + eps
//   momentum: b = momentum * b + g / avg, param -= lr * b;  else param -= lr * g / avg
// T is vec4f when the element count is a multiple of 4, else f32.

alias T = {{T}};
// Number of T values.
const COUNT = {{COUNT}};
const CENTERED = {{CENTERED}};
const USE_MOMENTUM = {{USE_MOMENTUM}};
const MAXIMIZE = {{MAXIMIZE}};

// Hyper-parameters the host writes before each step.
struct Hyper {
  lr: f32,
  alpha: f32,
  eps: f32,
  weight_decay: f32,
  momentum: f32,
}

// Parameter, updated in place.
@group(0) @binding(0) var<storage, read_write> param: array<T>;
// Its gradient.
@group(0) @binding(1) var<storage, read> grad: array<T>;
// Running average of squared gradients, zero before the first step.
@group(0) @binding(2) var<storage, read_write> square_avg: array<T>;
// Running average of gradients; read only when centered, so any buffer may be bound else.
@group(0) @binding(3) var<storage, read_write> grad_avg: array<T>;
// Momentum buffer; read only with momentum, so any buffer may be bound else.
@group(0) @binding(4) var<storage, read_write> momentum_buffer: array<T>;
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
  let p = param[i];
  let g = select(grad[i], -grad[i], MAXIMIZE) + hyper.weight_decay * p;
  let s = hyper.alpha * square_avg[i] + (1.0 - hyper.alpha) * g * g;
  square_avg[i] = s;
  var avg = sqrt(s) + hyper.eps;
  if (CENTERED) {
    let a = hyper.alpha * grad_avg[i] + (1.0 - hyper.alpha) * g;
    grad_avg[i] = a;
    avg = sqrt(s - a * a) + hyper.eps;
  }
  if (USE_MOMENTUM) {
    let b = hyper.momentum * momentum_buffer[i] + g / avg;
    momentum_buffer[i] = b;
    param[i] = p - hyper.lr * b;
  } else {
    param[i] = p - hyper.lr * g / avg;
  }
}
