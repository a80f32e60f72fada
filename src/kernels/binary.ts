// Binary element-wise ops with broadcasting (add, sub, mul, div, and prelu with its weight
// broadcast over the channel axis) and their gradients: an element-wise kernel over the
// output shape, then a sum over the axes the operand was broadcast along.

import { UserError } from '../errors.js';
import { type KernelPlan, type PlanLimits, type Shape } from './common.js';
import { broadcastShapes, planElementwise } from './elementwise.js';
import { planReduce } from './reduce.js';

export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'prelu'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Tensors a gradient expression reads: the operands and the output gradient. */
export type GradientInput = 'a' | 'b' | 'dy';

interface BinaryDefinition {
  forward: string;
  /** Gradient of each operand: the tensors it reads, bound in order as x0, x1, x2. */
  gradients: [GradientRule, GradientRule];
}

interface GradientRule {
  inputs: GradientInput[];
  expression: string;
}

const BINARY: Record<BinaryOp, BinaryDefinition> = {
  add: {
    forward: 'x0 + x1',
    gradients: [
      { inputs: ['dy'], expression: 'x0' },
      { inputs: ['dy'], expression: 'x0' },
    ],
  },
  sub: {
    forward: 'x0 - x1',
    gradients: [
      { inputs: ['dy'], expression: 'x0' },
      { inputs: ['dy'], expression: '-x0' },
    ],
  },
  mul: {
    forward: 'x0 * x1',
    gradients: [
      { inputs: ['b', 'dy'], expression: 'x0 * x1' },
      { inputs: ['a', 'dy'], expression: 'x0 * x1' },
    ],
  },
  div: {
    forward: 'x0 / x1',
    gradients: [
      { inputs: ['b', 'dy'], expression: 'x1 / x0' },
      { inputs: ['a', 'b', 'dy'], expression: '-x2 * x0 / (x1 * x1)' },
    ],
  },
  prelu: {
    forward: 'prelu_t(x0, x1)',
    gradients: [
      { inputs: ['a', 'b', 'dy'], expression: 'prelu_grad_input_t(x0, x1, x2)' },
      { inputs: ['a', 'dy'], expression: 'prelu_grad_weight_t(x0, x1)' },
    ],
  },
};

function definition(op: BinaryOp): BinaryDefinition {
  const found = BINARY[op];
  if (!found) {
    throw new UserError(`Unknown binary op '${op}'; expected one of ${BINARY_OPS.join(', ')}.`);
  }
  return found;
}

/** Plans `y = a op b` with broadcasting. Bindings: (0) a, (1) b, (2) y. */
export function planBinary(
  op: BinaryOp,
  aShape: Shape,
  bShape: Shape,
  limits: PlanLimits,
): KernelPlan {
  const { forward } = definition(op);
  const outShape = broadcastShapes(aShape, bShape);
  return planElementwise(op, [aShape, bShape], outShape, forward, limits);
}

export interface BinaryGradientPlan {
  /** Tensors bound to `elementwise`'s first bindings, in order; its last binding is its output. */
  inputs: GradientInput[];
  /**
   * Computes the operand's gradient at every output element. Without `reduce`, it writes the
   * gradient itself; with it, a scratch tensor of the output's shape.
   */
  elementwise: KernelPlan;
  /** Sums the scratch tensor over the broadcast axes into the operand's gradient. */
  reduce?: KernelPlan;
  /** Elements of the scratch tensor when `reduce` is present, else 0. */
  scratchElements: number;
}

/** Plans the gradient of operand 0 (a) or 1 (b) of `a op b`. */
export function planBinaryBackward(
  op: BinaryOp,
  operand: 0 | 1,
  aShape: Shape,
  bShape: Shape,
  limits: PlanLimits,
): BinaryGradientPlan {
  const rule = definition(op).gradients[operand];
  const outShape = broadcastShapes(aShape, bShape);
  const shapes = { a: aShape, b: bShape, dy: outShape };
  const name = `${op}_backward_${operand === 0 ? 'a' : 'b'}`;
  const inputShapes = rule.inputs.map((input) => shapes[input]);
  const elementwise = planElementwise(name, inputShapes, outShape, rule.expression, limits);

  const operandShape = operand === 0 ? aShape : bShape;
  const offset = outShape.length - operandShape.length;
  const axes = outShape
    .map((size, axis) =>
      axis < offset || (operandShape[axis - offset] === 1 && size > 1) ? axis : -1,
    )
    .filter((axis) => axis >= 0);
  if (axes.length === 0) return { inputs: rule.inputs, elementwise, scratchElements: 0 };
  const reduce = planReduce({ shape: outShape, axes, op: 'sum' }, limits);
  const scratchElements = outShape.reduce((product, size) => product * size, 1);
  return { inputs: rule.inputs, elementwise, reduce, scratchElements };
}
