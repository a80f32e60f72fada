// Batch norm with batch statistics over an input larger than maxStorageBufferBindingSize. Its
// statistics reduce over the whole batch, so each run of samples first gets the statistics of
// its (n, c) planes, which bn-merge.wgsl merges into the channels' statistics in run order.
// The gradient adds each run's sums and weight and bias gradients in run order likewise. The
// normalisation and the input gradient then run per run of samples with the batch's values.

import type { Value } from '../graph/ir.js';
import { planSplitSum } from './conv-wgrad.js';
import type { LowerContext, LoweredDispatch, Operand } from './lower.js';
import type { Epilogue } from './plan.js';
import {
  normAffineElements,
  planBatchNormMerge,
  planBatchNormRunning,
  planNormAffineGrad,
  planNormApply,
  planNormBackward,
  planNormBackwardSums,
  planNormStats,
  type NormGeometry,
} from './norm.js';
import { windowOf, type UnitRange } from './split.js';

/** A batch norm's operands: input (or dy and x for the gradient), affine and running ones. */
export interface BatchNormOperands {
  x: Value;
  /** Whole-batch statistics [mean, invstd, variance], saved for the gradient. */
  stats: Operand;
  weight: Operand;
  bias: Operand;
  /** running_mean and running_var, when the norm tracks them. */
  running?: [Operand, Operand];
}

function runOf(norm: NormGeometry, x: Value, run: UnitRange) {
  const perSample = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const geometry: NormGeometry = { ...norm, inputShape: [run.count, ...x.shape.slice(1)] };
  const window = (operand: Operand) =>
    windowOf(operand, run.start * perSample, run.count * perSample);
  return { geometry, window };
}

/**
 * Lowers the forward pass of a training-mode batch norm split into `runs` of samples, with a
 * fused `activation` applied before y is stored.
 */
export function lowerBatchNormRuns(
  context: LowerContext,
  norm: NormGeometry,
  operands: BatchNormOperands,
  y: Value,
  runs: UnitRange[],
  activation: Epilogue = {},
): LoweredDispatch[] {
  const { x, stats } = operands;
  const dispatches: LoweredDispatch[] = [];
  runs.forEach((run, index) => {
    const { geometry, window } = runOf(norm, x, run);
    const instance: NormGeometry = { ...geometry, kind: 'instanceNorm', affine: false };
    const planes = context.scratch(3 * run.count * x.shape[1]!);
    const merge = { samples: run.count, before: run.start, last: index === runs.length - 1 };
    dispatches.push(
      { plan: planNormStats(instance, context.limits), operands: [window(value(x)), planes] },
      { plan: planBatchNormMerge(norm, merge, context.limits), operands: [planes, stats] },
    );
  });
  if (operands.running) {
    const plan = planBatchNormRunning(norm, true, context.limits);
    dispatches.push({ plan, operands: [stats, ...operands.running] });
  }
  for (const run of runs) {
    const { geometry, window } = runOf(norm, x, run);
    dispatches.push({
      plan: planNormApply(geometry, context.limits, activation),
      operands: [window(value(x)), stats, operands.weight, operands.bias, window(value(y))],
    });
  }
  return dispatches;
}

/**
 * Lowers the gradient of a training-mode batch norm split into `runs` of samples: dx, and
 * with `affine` the weight and bias gradients `dweight` and `dbias`.
 */
export function lowerBatchNormGradRuns(
  context: LowerContext,
  norm: NormGeometry,
  operands: BatchNormOperands,
  gradients: { dy: Value; dx: Value; dweight?: Value; dbias?: Value },
  runs: UnitRange[],
): LoweredDispatch[] {
  const { x, stats, weight } = operands;
  const channels = x.shape[1]!;
  const sums = context.scratch(2 * channels);
  const dispatches: LoweredDispatch[] = [];
  for (const run of runs) {
    const { geometry, window } = runOf(norm, x, run);
    const part = context.scratch(2 * channels);
    const inputs = [window(value(x)), window(value(gradients.dy)), stats, weight];
    const sum = planSplitSum(1, 2 * channels, { accumulate: run.start > 0 });
    dispatches.push(
      { plan: planNormBackwardSums(geometry, context.limits), operands: [...inputs, part] },
      { plan: sum, operands: [part, sums] },
    );
  }
  const groupSize = x.shape[0]! * x.shape.slice(2).reduce((a, b) => a * b, 1);
  for (const run of runs) {
    const { geometry, window } = runOf(norm, x, run);
    const plan = planNormBackward(geometry, true, context.limits, groupSize);
    const inputs = [window(value(x)), window(value(gradients.dy)), stats, weight, sums];
    dispatches.push({ plan, operands: [...inputs, window(value(gradients.dx))] });
  }
  if (!gradients.dweight || !gradients.dbias) return dispatches;
  for (const run of runs) {
    const { geometry, window } = runOf(norm, x, run);
    const count = normAffineElements(geometry, context.limits);
    const [dweight, dbias] = [context.scratch(count), context.scratch(count)];
    const inputs = [window(value(x)), window(value(gradients.dy)), stats];
    const sum = planSplitSum(1, count, { accumulate: run.start > 0 });
    dispatches.push(
      { plan: planNormAffineGrad(geometry, context.limits), operands: [...inputs, dweight, dbias] },
      { plan: sum, operands: [dweight, value(gradients.dweight)] },
      { plan: sum, operands: [dbias, value(gradients.dbias)] },
    );
  }
  return dispatches;
}

function value(v: Value): Operand {
  return { kind: 'value', value: v };
}
