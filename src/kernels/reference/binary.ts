// Float64 references of the binary element-wise ops with broadcasting and their gradients.

import type { BinaryOp } from '../binary.js';
import type { Shape } from '../common.js';
import { broadcastShapes } from '../elementwise.js';
import { broadcastTo, sumTo } from './reduce.js';

type Scalar = (a: number, b: number) => number;

const FORWARD: Record<BinaryOp, Scalar> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  prelu: (x, w) => (x > 0 ? x : w * x),
};

/** Partial derivatives with respect to a and b. */
const PARTIALS: Record<BinaryOp, [Scalar, Scalar]> = {
  add: [() => 1, () => 1],
  sub: [() => 1, () => -1],
  mul: [(_, b) => b, (a) => a],
  div: [(_, b) => 1 / b, (a, b) => -a / (b * b)],
  prelu: [(x, w) => (x > 0 ? 1 : w), (x) => (x > 0 ? 0 : x)],
};

export function binaryForward(
  op: BinaryOp,
  a: ArrayLike<number>,
  aShape: Shape,
  b: ArrayLike<number>,
  bShape: Shape,
): Float64Array {
  const outShape = broadcastShapes(aShape, bShape);
  const wideA = broadcastTo(a, aShape, outShape);
  const wideB = broadcastTo(b, bShape, outShape);
  return wideA.map((value, i) => FORWARD[op](value, wideB[i]!));
}

/** Gradient of operand 0 (a) or 1 (b), summed back over its broadcast axes. */
export function binaryBackward(
  op: BinaryOp,
  operand: 0 | 1,
  a: ArrayLike<number>,
  aShape: Shape,
  b: ArrayLike<number>,
  bShape: Shape,
  dy: ArrayLike<number>,
): Float64Array {
  const outShape = broadcastShapes(aShape, bShape);
  const wideA = broadcastTo(a, aShape, outShape);
  const wideB = broadcastTo(b, bShape, outShape);
  const partial = PARTIALS[op][operand];
  const full = wideA.map((value, i) => partial(value, wideB[i]!) * dy[i]!);
  return sumTo(full, outShape, operand === 0 ? aShape : bShape);
}
