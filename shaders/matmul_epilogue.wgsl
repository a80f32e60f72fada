// The activation fused into the store of matmul and convolution outputs. ACTIVATION is a
// constant, so the compiler keeps only the selected case: 0 none, 1 relu, 2 leaky relu
// (ACTIVATION_PARAMETER is the negative slope), 3 elu (ACTIVATION_PARAMETER is alpha),
// 4 sigmoid, 5 tanh.
const ACTIVATION = {{ACTIVATION}};
const ACTIVATION_PARAMETER = {{ACTIVATION_PARAMETER}};

fn activate(x: f32) -> f32 {
  switch ACTIVATION {
    case 1u: { return max(x, 0.0); }
    case 2u: { return select(x * ACTIVATION_PARAMETER, x, x > 0.0); }
    case 3u: { return select(ACTIVATION_PARAMETER * (exp(x) - 1.0), x, x > 0.0); }
    case 4u: { return 1.0 / (1.0 + exp(-x)); }
    // The clamp keeps drivers that compute tanh from exponentials away from inf / inf.
    case 5u: { return tanh(clamp(x, -15.0, 15.0)); }
    default: { return x; }
  }
}
