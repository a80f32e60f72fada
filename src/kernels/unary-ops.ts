// The table of unary element-wise ops: how each writes its forward and its vector-Jacobian
// product as a WGSL expression over the functions of shaders/elementwise-functions.wgsl. One
// table drives the kernels, the float64 references and the tests of every entry.

import { UserError } from '../errors.js';
import { f32 } from './common.js';

export const UNARY_OPS = [
  'relu',
  'leakyRelu',
  'elu',
  'selu',
  'celu',
  'gelu',
  'mish',
  'sigmoid',
  'tanh',
  'relu6',
  'softplus',
  'exp',
  'log',
  'sqrt',
  'neg',
  'scale',
] as const;

export type UnaryOpName = (typeof UNARY_OPS)[number];

/** A unary op and its parameters; an omitted parameter takes PyTorch's default. */
export interface UnaryOp {
  op: UnaryOpName;
  /** leakyRelu's slope for x < 0. Default 0.01. */
  negativeSlope?: number;
  /** elu's and celu's alpha. Default 1. */
  alpha?: number;
  /** softplus's beta. Default 1. */
  beta?: number;
  /** softplus's threshold above which it is linear. Default 20. */
  threshold?: number;
  /** scale's factor. Required. */
  factor?: number;
}

/** Tensor that the backward pass of an op reads besides the output gradient. */
export type SavedTensor = 'input' | 'output' | 'none';

interface UnaryDefinition {
  saves: SavedTensor;
  /** WGSL expression of the output; `x` is read once. */
  forward(x: string, op: UnaryOp): string;
  /** WGSL expression of the input gradient from the saved tensor and `dy`. */
  backward(saved: string, dy: string, op: UnaryOp): string;
}

const slope = (op: UnaryOp) => f32(op.negativeSlope ?? 0.01);
const alpha = (op: UnaryOp) => f32(op.alpha ?? 1);
const softplusArgs = (op: UnaryOp) => `${f32(op.beta ?? 1)}, ${f32(op.threshold ?? 20)}`;

function factor(op: UnaryOp): string {
  if (op.factor === undefined || !Number.isFinite(op.factor)) {
    throw new UserError(`The scale op needs a finite 'factor', got ${op.factor}.`);
  }
  return f32(op.factor);
}

const UNARY: Record<UnaryOpName, UnaryDefinition> = {
  relu: {
    saves: 'input',
    forward: (x) => `relu_t(${x})`,
    backward: (x, dy) => `relu_grad_t(${x}, ${dy})`,
  },
  leakyRelu: {
    saves: 'input',
    forward: (x, op) => `leaky_relu_t(${x}, ${slope(op)})`,
    backward: (x, dy, op) => `leaky_relu_grad_t(${x}, ${dy}, ${slope(op)})`,
  },
  elu: {
    saves: 'input',
    forward: (x, op) => `elu_t(${x}, ${alpha(op)})`,
    backward: (x, dy, op) => `elu_grad_t(${x}, ${dy}, ${alpha(op)})`,
  },
  selu: {
    saves: 'input',
    forward: (x) => `selu_t(${x})`,
    backward: (x, dy) => `selu_grad_t(${x}, ${dy})`,
  },
  celu: {
    saves: 'input',
    forward: (x, op) => `celu_t(${x}, ${alpha(op)})`,
    backward: (x, dy, op) => `celu_grad_t(${x}, ${dy}, ${alpha(op)})`,
  },
  gelu: {
    saves: 'input',
    forward: (x) => `gelu_t(${x})`,
    backward: (x, dy) => `gelu_grad_t(${x}, ${dy})`,
  },
  mish: {
    saves: 'input',
    forward: (x) => `mish_t(${x})`,
    backward: (x, dy) => `mish_grad_t(${x}, ${dy})`,
  },
  sigmoid: {
    saves: 'output',
    forward: (x) => `sigmoid_t(${x})`,
    backward: (y, dy) => `sigmoid_grad_t(${y}, ${dy})`,
  },
  tanh: {
    saves: 'output',
    forward: (x) => `tanh_t(${x})`,
    backward: (y, dy) => `tanh_grad_t(${y}, ${dy})`,
  },
  relu6: {
    saves: 'input',
    forward: (x) => `relu6_t(${x})`,
    backward: (x, dy) => `relu6_grad_t(${x}, ${dy})`,
  },
  softplus: {
    saves: 'input',
    forward: (x, op) => `softplus_t(${x}, ${softplusArgs(op)})`,
    backward: (x, dy, op) => `softplus_grad_t(${x}, ${dy}, ${softplusArgs(op)})`,
  },
  exp: {
    saves: 'output',
    forward: (x) => `exp(${x})`,
    backward: (y, dy) => `exp_grad_t(${y}, ${dy})`,
  },
  log: {
    saves: 'input',
    forward: (x) => `log(${x})`,
    backward: (x, dy) => `log_grad_t(${x}, ${dy})`,
  },
  sqrt: {
    saves: 'output',
    forward: (x) => `sqrt(${x})`,
    backward: (y, dy) => `sqrt_grad_t(${y}, ${dy})`,
  },
  neg: {
    saves: 'none',
    forward: (x) => `-(${x})`,
    backward: (_, dy) => `-(${dy})`,
  },
  scale: {
    saves: 'none',
    forward: (x, op) => `(${x}) * ${factor(op)}`,
    backward: (_, dy, op) => `(${dy}) * ${factor(op)}`,
  },
};

function definition(op: UnaryOp): UnaryDefinition {
  const found = UNARY[op.op];
  if (!found) {
    throw new UserError(`Unknown unary op '${op.op}'; expected one of ${UNARY_OPS.join(', ')}.`);
  }
  return found;
}

/** Returns the tensor that the backward pass of `op` reads besides the output gradient. */
export function unarySaves(op: UnaryOp): SavedTensor {
  return definition(op).saves;
}

/**
 * Writes the WGSL expression of a chain of unary ops applied in order to `x`, for one fused
 * kernel: [relu, scale] gives `scale(relu(x))`.
 */
export function unaryExpression(chain: readonly UnaryOp[], x: string): string {
  return chain.reduce((expression, op) => definition(op).forward(expression, op), x);
}

/** Writes the WGSL expression of the input gradient of `op`. */
export function unaryGradientExpression(op: UnaryOp, saved: string, dy: string): string {
  return definition(op).backward(saved, dy, op);
}
