// Lowers what happens to gradients between the backward pass and the optimizer: averaging
// over accumulation steps, clipping by value, and clipping by the global L2 norm as
// torch.nn.utils.clip_grad_norm_ does (one norm over every trained gradient).

import { numElements, type Value } from '../graph/ir.js';
import { planFill } from './fill.js';
import {
  normPartialCount,
  planAccumulate,
  planClipByValue,
  planClipNormFactor,
  planScaleBy,
  planSumSquares,
} from './gradients.js';
import { value, type LowerContext, type LoweredDispatch, type Operand } from './lower.js';

export interface ClipOptions {
  /** Largest L2 norm of all gradients together; they are scaled down to it. */
  maxNorm?: number;
  /** Every gradient element is clamped to [-clipValue, clipValue]. */
  clipValue?: number;
}

/** Clips `gradients` in place: by value first, then by global norm (as both torch calls). */
export function lowerClipping(
  context: LowerContext,
  gradients: readonly { operand: Operand; elements: number }[],
  options: ClipOptions,
): LoweredDispatch[] {
  const dispatches: LoweredDispatch[] = [];
  if (options.clipValue !== undefined) {
    for (const { operand, elements } of gradients) {
      dispatches.push({
        plan: planClipByValue(elements, options.clipValue, context.limits),
        operands: [operand],
      });
    }
  }
  if (options.maxNorm !== undefined) {
    const total = gradients.reduce((sum, { elements }) => sum + normPartialCount(elements), 0);
    const partials = context.scratch(total);
    const factor: Operand = { kind: 'state', key: 'gradient norm', elements: 2, fill: 0 };
    let offset = 0;
    for (const { operand, elements } of gradients) {
      dispatches.push({
        plan: planSumSquares(elements, offset, context.limits),
        operands: [operand, partials],
      });
      offset += normPartialCount(elements);
    }
    dispatches.push({
      plan: planClipNormFactor(total, options.maxNorm),
      operands: [partials, factor],
    });
    for (const { operand, elements } of gradients) {
      dispatches.push({
        plan: planScaleBy(elements, 1, context.limits),
        operands: [operand, factor],
      });
    }
  }
  return dispatches;
}

/** The accumulator of a parameter's gradient over micro-batches, kept across steps. */
export function accumulator(param: Value): Operand {
  return {
    kind: 'state',
    key: `gradient accumulator:${param.name}`,
    elements: numElements(param.shape),
    fill: 0,
  };
}

/** Adds each step's gradient into its accumulator. */
export function lowerAccumulation(
  context: LowerContext,
  updates: readonly { param: Value; grad: Value }[],
): LoweredDispatch[] {
  return updates.map(({ param, grad }) => ({
    plan: planAccumulate(numElements(param.shape), context.limits),
    operands: [value(grad), accumulator(param)],
  }));
}

/** Divides each accumulator by the number of accumulated steps, giving the mean gradient. */
export function lowerAverage(
  context: LowerContext,
  updates: readonly { param: Value }[],
  steps: number,
): LoweredDispatch[] {
  const divisor = context.constant(`1/${steps}`, Float32Array.of(1 / steps));
  return updates.map(({ param }) => ({
    plan: planScaleBy(numElements(param.shape), 0, context.limits),
    operands: [accumulator(param), divisor],
  }));
}

/** Zeroes the accumulators after the optimizer used them. */
export function lowerClear(
  context: LowerContext,
  updates: readonly { param: Value }[],
): LoweredDispatch[] {
  return updates.map(({ param }) => ({
    plan: planFill(numElements(param.shape), 0, context.limits),
    operands: [accumulator(param)],
  }));
}
