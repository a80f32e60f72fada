// Float64 references of the unary and binary element-wise ops and their gradients, written
// from the mathematical definitions (PyTorch's where it picks a variant) for the tests.

import type { UnaryOp, UnaryOpName } from '../unary-ops.js';

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** erf in float64: its Taylor series below 3, a continued fraction of erfc above. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 100; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return (Math.sign(x) * 2 * sum) / Math.sqrt(Math.PI);
  }
  // erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...)))).
  let fraction = a;
  for (let k = 60; k >= 1; k--) fraction = a + k / 2 / fraction;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction;
  return Math.sign(x) * (1 - erfc);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus1 = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));
const normalPdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

interface Reference {
  forward(x: number, op: UnaryOp): number;
  /** Derivative dy/dx at input x. */
  derivative(x: number, op: UnaryOp): number;
}

const slope = (op: UnaryOp) => op.negativeSlope ?? 0.01;
const alpha = (op: UnaryOp) => op.alpha ?? 1;
const beta = (op: UnaryOp) => op.beta ?? 1;
const threshold = (op: UnaryOp) => op.threshold ?? 20;

const REFERENCES: Record<UnaryOpName, Reference> = {
  relu: { forward: (x) => Math.max(x, 0), derivative: (x) => (x > 0 ? 1 : 0) },
  leakyRelu: {
    forward: (x, op) => (x > 0 ? x : slope(op) * x),
    derivative: (x, op) => (x > 0 ? 1 : slope(op)),
  },
  elu: {
    forward: (x, op) => (x > 0 ? x : alpha(op) * Math.expm1(x)),
    derivative: (x, op) => (x > 0 ? 1 : alpha(op) * Math.exp(x)),
  },
  selu: {
    forward: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    derivative: (x) => SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x)),
  },
  celu: {
    forward: (x, op) => (x > 0 ? x : alpha(op) * Math.expm1(x / alpha(op))),
    derivative: (x, op) => (x > 0 ? 1 : Math.exp(x / alpha(op))),
  },
  gelu: {
    forward: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    derivative: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + x * normalPdf(x),
  },
  mish: {
    forward: (x) => x * Math.tanh(softplus1(x)),
    derivative: (x) => {
      const t = Math.tanh(softplus1(x));
      return t + x * (1 - t * t) * sigmoid(x);
    },
  },
  sigmoid: { forward: sigmoid, derivative: (x) => sigmoid(x) * (1 - sigmoid(x)) },
  tanh: { forward: Math.tanh, derivative: (x) => 1 - Math.tanh(x) ** 2 },
  relu6: {
    forward: (x) => Math.min(Math.max(x, 0), 6),
    derivative: (x) => (x > 0 && x < 6 ? 1 : 0),
  },
  softplus: {
    forward: (x, op) =>
      beta(op) * x > threshold(op) ? x : Math.log1p(Math.exp(beta(op) * x)) / beta(op),
    derivative: (x, op) => (beta(op) * x > threshold(op) ? 1 : sigmoid(beta(op) * x)),
  },
  exp: { forward: Math.exp, derivative: Math.exp },
  log: { forward: Math.log, derivative: (x) => 1 / x },
  sqrt: { forward: Math.sqrt, derivative: (x) => 0.5 / Math.sqrt(x) },
  neg: { forward: (x) => -x, derivative: () => -1 },
  scale: { forward: (x, op) => x * op.factor!, derivative: (_, op) => op.factor! },
};

export function unaryForward(op: UnaryOp, x: ArrayLike<number>): Float64Array {
  const reference = REFERENCES[op.op];
  return Float64Array.from(x, (value) => reference.forward(value, op));
}

/** Input gradient of `op` at input `x` for output gradient `dy`. */
export function unaryBackward(
  op: UnaryOp,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
): Float64Array {
  const reference = REFERENCES[op.op];
  return Float64Array.from(x, (value, i) => reference.derivative(value, op) * dy[i]!);
}
