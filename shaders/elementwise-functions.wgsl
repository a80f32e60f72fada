// Element-wise activation functions and their derivatives, written once for the alias T that
// the including kernel declares (f32, or vec4f when the kernel processes four values per
// thread). Each function reads its argument once at the call site, so a compiler can chain
// them into one expression without repeating work. Unused functions are dropped by the
// shader compiler.

// log(1 + u) without losing u when it is tiny: (1 + u) rounds, and the ratio
// u / ((1 + u) - 1) corrects the rounding (Goldberg, "What every computer scientist should
// know about floating-point arithmetic", theorem 4).
fn log1p_t(u: T) -> T {
  let w = T(1.0) + u;
  return select(u * log(w) / (w - T(1.0)), u, w == T(1.0));
}

// erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7), because WGSL has none.
fn erf_t(x: T) -> T {
  let a = abs(x);
  let t = T(1.0) / (T(1.0) + T(0.3275911) * a);
  let poly = t * (T(0.254829592) + t * (T(-0.284496736) + t * (T(1.421413741) +
      t * (T(-1.453152027) + t * T(1.061405429)))));
  return sign(x) * (T(1.0) - poly * exp(-a * a));
}

// tanh through a clamp: some drivers compute tanh as a ratio of exponentials that overflows
// to NaN for |x| > 44; tanh(15) already rounds to 1 in f32.
fn tanh_t(x: T) -> T {
  return tanh(clamp(x, T(-15.0), T(15.0)));
}

fn sigmoid_t(x: T) -> T {
  return T(1.0) / (T(1.0) + exp(-x));
}

// log(1 + exp(x)) with PyTorch's linear cut-off above 20.
fn softplus1_t(x: T) -> T {
  return select(log1p_t(exp(x)), x, x > T(20.0));
}

fn relu_t(x: T) -> T { return max(x, T(0.0)); }
fn relu_grad_t(x: T, dy: T) -> T { return select(T(0.0), dy, x > T(0.0)); }

fn relu6_t(x: T) -> T { return clamp(x, T(0.0), T(6.0)); }
fn relu6_grad_t(x: T, dy: T) -> T {
  return select(T(0.0), dy, (x > T(0.0)) & (x < T(6.0)));
}

fn leaky_relu_t(x: T, slope: f32) -> T { return select(x * slope, x, x > T(0.0)); }
fn leaky_relu_grad_t(x: T, dy: T, slope: f32) -> T {
  return select(dy * slope, dy, x > T(0.0));
}

fn elu_t(x: T, alpha: f32) -> T { return select(alpha * (exp(x) - T(1.0)), x, x > T(0.0)); }
fn elu_grad_t(x: T, dy: T, alpha: f32) -> T {
  return select(dy * alpha * exp(x), dy, x > T(0.0));
}

// SELU's constants as PyTorch writes them (torch.nn.SELU).
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;
fn selu_t(x: T) -> T { return SELU_SCALE * elu_t(x, SELU_ALPHA); }
fn selu_grad_t(x: T, dy: T) -> T { return SELU_SCALE * elu_grad_t(x, dy, SELU_ALPHA); }

fn celu_t(x: T, alpha: f32) -> T {
  return select(alpha * (exp(x / alpha) - T(1.0)), x, x > T(0.0));
}
fn celu_grad_t(x: T, dy: T, alpha: f32) -> T {
  return select(dy * exp(x / alpha), dy, x > T(0.0));
}

// GELU with the exact erf form, PyTorch's default (approximate='none').
fn gelu_t(x: T) -> T { return T(0.5) * x * (T(1.0) + erf_t(x * T(0.7071067811865476))); }
fn gelu_grad_t(x: T, dy: T) -> T {
  let cdf = T(0.5) * (T(1.0) + erf_t(x * T(0.7071067811865476)));
  let pdf = exp(T(-0.5) * x * x) * T(0.3989422804014327);
  return dy * (cdf + x * pdf);
}

fn mish_t(x: T) -> T { return x * tanh_t(softplus1_t(x)); }
fn mish_grad_t(x: T, dy: T) -> T {
  let t = tanh_t(softplus1_t(x));
  return dy * (t + x * (T(1.0) - t * t) * sigmoid_t(x));
}

// Derivatives written from the output y, which the forward pass keeps instead of x.
fn sigmoid_grad_t(y: T, dy: T) -> T { return dy * y * (T(1.0) - y); }
fn tanh_grad_t(y: T, dy: T) -> T { return dy * (T(1.0) - y * y); }
fn exp_grad_t(y: T, dy: T) -> T { return dy * y; }
fn sqrt_grad_t(y: T, dy: T) -> T { return dy * T(0.5) / y; }

fn log_grad_t(x: T, dy: T) -> T { return dy / x; }

// PyTorch's Softplus(beta, threshold): linear where beta * x exceeds the threshold.
fn softplus_t(x: T, beta: f32, threshold: f32) -> T {
  return select(log1p_t(exp(beta * x)) / beta, x, beta * x > T(threshold));
}
fn softplus_grad_t(x: T, dy: T, beta: f32, threshold: f32) -> T {
  return select(dy * sigmoid_t(beta * x), dy, beta * x > T(threshold));
}

fn prelu_t(x: T, weight: T) -> T { return select(weight * x, x, x > T(0.0)); }
fn prelu_grad_input_t(x: T, weight: T, dy: T) -> T {
  return select(weight * dy, dy, x > T(0.0));
}
fn prelu_grad_weight_t(x: T, dy: T) -> T { return select(x * dy, T(0.0), x > T(0.0)); }

// Pointwise losses of a prediction x against a target t, as PyTorch defines them, and their
// derivatives with respect to x.
fn smooth_l1_t(d: T, beta: f32) -> T {
  return select(abs(d) - 0.5 * beta, 0.5 * d * d / beta, abs(d) < T(beta));
}
fn smooth_l1_grad_t(d: T, beta: f32) -> T { return select(sign(d), d / beta, abs(d) < T(beta)); }

fn huber_t(d: T, delta: f32) -> T {
  return select(delta * (abs(d) - 0.5 * delta), 0.5 * d * d, abs(d) < T(delta));
}
fn huber_grad_t(d: T, delta: f32) -> T { return clamp(d, T(-delta), T(delta)); }

// (1 - t) * x + log(1 + exp(-x)), written with max(-x, 0) so exp never overflows.
fn bce_logits_t(x: T, t: T) -> T {
  return (T(1.0) - t) * x + log1p_t(exp(-abs(x))) + max(-x, T(0.0));
}
fn bce_logits_grad_t(x: T, t: T) -> T { return sigmoid_t(x) - t; }

// t * (log(t) - x), 0 where t = 0 (PyTorch's xlogy convention).
fn kl_div_t(x: T, t: T) -> T { return select(T(0.0), t * (log(t) - x), t > T(0.0)); }

// Sigmoid focal loss as MONAI's FocalLoss computes it: the BCE of logits x against t,
// weighted by (1 - p_t)^gamma, where log(1 - p_t) = logsigmoid(-x * (2t - 1)).
fn focal_t(x: T, t: T, gamma: f32) -> T {
  let log_q = -softplus1_t(x * (T(2.0) * t - T(1.0)));
  return exp(gamma * log_q) * bce_logits_t(x, t);
}
fn focal_grad_t(x: T, t: T, gamma: f32) -> T {
  let log_q = -softplus1_t(x * (T(2.0) * t - T(1.0)));
  let w = exp(gamma * log_q);
  let bce_grad = sigmoid_t(x) - t;
  let dlogw = -gamma * (T(1.0) - exp(log_q)) * (T(2.0) * t - T(1.0));
  return w * (bce_grad + dlogw * bce_logits_t(x, t));
}
