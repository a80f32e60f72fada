// Element-wise ops: binary arithmetic with NumPy broadcasting, scaling by a constant, and unary
// activations. Attribute defaults live in the layer registry; here every attribute is explicit.

import { ShapeError } from '../errors.js';
import type { Shape } from '../ir.js';
import { broadcastShapes, elementwiseFlops, expectInputCount, type OpDef } from './types.js';

type NoAttrs = Record<string, never>;

export interface ElementwiseOpAttrs {
  add: NoAttrs;
  sub: NoAttrs;
  mul: NoAttrs;
  div: NoAttrs;
  /** x * factor. */
  scale: { factor: number };
  relu: NoAttrs;
  /** max(0, x) + negativeSlope * min(0, x). */
  leakyRelu: { negativeSlope: number };
  /** Like leakyRelu with a learned slope: input 1 is weight [1] or [C] (channel axis 1). */
  prelu: NoAttrs;
  elu: { alpha: number };
  selu: NoAttrs;
  celu: { alpha: number };
  /** 'tanh' is the tanh approximation of GELU, as PyTorch's approximate='tanh'. */
  gelu: { approximate: 'none' | 'tanh' };
  mish: NoAttrs;
  sigmoid: NoAttrs;
  tanh: NoAttrs;
  relu6: NoAttrs;
  /** log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold. */
  softplus: { beta: number; threshold: number };
  exp: NoAttrs;
  log: NoAttrs;
  sqrt: NoAttrs;
  neg: NoAttrs;
}

export type BinaryOpName = 'add' | 'sub' | 'mul' | 'div';
export type UnaryOpName = Exclude<keyof ElementwiseOpAttrs, BinaryOpName | 'prelu'>;

function inferBinary(inputs: readonly Shape[]): Shape[] {
  expectInputCount(inputs, 2, 'a, b');
  return [broadcastShapes(inputs[0], inputs[1])];
}

function inferUnary(inputs: readonly Shape[]): Shape[] {
  expectInputCount(inputs, 1, 'x');
  return [inputs[0]];
}

function inferPrelu(inputs: readonly Shape[]): Shape[] {
  expectInputCount(inputs, 2, 'x, weight');
  const [x, weight] = inputs;
  const channels = x.length >= 2 ? x[1] : 1;
  if (weight.length !== 1 || (weight[0] !== 1 && weight[0] !== channels)) {
    throw new ShapeError(
      `prelu weight must have shape [1] or [${channels}] (channels on axis 1), got ` +
        `[${weight.join(', ')}]`,
    );
  }
  return [x];
}

function unary(perElement: number): OpDef<never> {
  return { inferShape: inferUnary, flops: elementwiseFlops(perElement) };
}

const binary: OpDef<NoAttrs> = { inferShape: inferBinary, flops: elementwiseFlops(1) };

/**
 * Every unary op counts one FLOP per element; transcendental functions are not weighted more
 * because their cost differs by device.
 */
export const ELEMENTWISE_OPS: { [K in keyof ElementwiseOpAttrs]: OpDef<ElementwiseOpAttrs[K]> } = {
  add: binary,
  sub: binary,
  mul: binary,
  div: binary,
  scale: unary(1),
  relu: unary(1),
  leakyRelu: unary(1),
  prelu: { inferShape: inferPrelu, flops: elementwiseFlops(1) },
  elu: unary(1),
  selu: unary(1),
  celu: unary(1),
  gelu: unary(1),
  mish: unary(1),
  sigmoid: unary(1),
  tanh: unary(1),
  relu6: unary(1),
  softplus: unary(1),
  exp: unary(1),
  log: unary(1),
  sqrt: unary(1),
  neg: unary(1),
};
