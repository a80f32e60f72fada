// Loss ops of the IR that are not compositions of other ops: cross-entropy over class scores
// with integer targets (also the negative log-likelihood of log-probabilities), and its
// gradient. Losses such as MSE are built from element-wise ops and reductions instead.

import { ShapeError } from '../graph/errors.js';
import { formatShape, numElements, type Shape } from '../graph/ir.js';
import type { OpDef } from '../graph/ops/types.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyAttrs {
  /** true: scores are logits (CrossEntropyLoss); false: log-probabilities (NLLLoss). */
  fromLogits: boolean;
  reduction: Reduction;
  /** Share of the target moved to a uniform distribution, in [0, 1]. */
  labelSmoothing: number;
  /** Target value whose rows add nothing to the loss or its gradient (PyTorch: -100). */
  ignoreIndex: number;
}

export interface LossOpAttrs {
  /** scores [N, C, ...spatial], targets i32 [N, ...spatial][, weight [C]] -> loss. */
  crossEntropy: CrossEntropyAttrs;
}

export interface LossGradOpAttrs {
  /** dy, scores, targets, loss[, weight] -> dscores. */
  crossEntropyGrad: CrossEntropyAttrs;
}

function checkCrossEntropy(inputs: readonly Shape[], attrs: CrossEntropyAttrs, first: number) {
  const scores = inputs[first]!;
  const targets = inputs[first + 1]!;
  if (scores.length < 2) {
    throw new ShapeError(
      `cross-entropy scores must be [N, C, ...spatial], got ${formatShape(scores)}`,
    );
  }
  const expected = [scores[0]!, ...scores.slice(2)];
  if (targets.length !== expected.length || targets.some((size, axis) => size !== expected[axis])) {
    throw new ShapeError(
      `cross-entropy targets must have shape ${formatShape(expected)} (scores without the class ` +
        `axis) but have ${formatShape(targets)}`,
      { shapes: [scores, targets] },
    );
  }
  const weight = inputs[first + 2];
  if (weight && (weight.length !== 1 || weight[0] !== scores[1])) {
    throw new ShapeError(
      `cross-entropy class weights must have shape [${scores[1]}], got ${formatShape(weight)}`,
    );
  }
  if (!(attrs.labelSmoothing >= 0 && attrs.labelSmoothing <= 1)) {
    throw new ShapeError(`labelSmoothing must be in [0, 1], got ${attrs.labelSmoothing}`);
  }
  return { scores, targets };
}

export const LOSS_OPS: { readonly [K in keyof LossOpAttrs]: OpDef<LossOpAttrs[K]> } = {
  crossEntropy: {
    inferShape(inputs, attrs) {
      if (inputs.length !== 2 && inputs.length !== 3) {
        throw new ShapeError('cross-entropy takes scores, targets and optional class weights');
      }
      const { targets } = checkCrossEntropy(inputs, attrs, 0);
      return [attrs.reduction === 'none' ? targets : []];
    },
    flops: (inputs) => 4 * numElements(inputs[0]!),
  },
};

export const LOSS_GRAD_OPS: { readonly [K in keyof LossGradOpAttrs]: OpDef<LossGradOpAttrs[K]> } = {
  crossEntropyGrad: {
    inferShape(inputs, attrs) {
      if (inputs.length !== 4 && inputs.length !== 5) {
        throw new ShapeError('cross-entropy gradient takes dy, scores, targets, loss and weights');
      }
      const { scores } = checkCrossEntropy([inputs[1]!, inputs[2]!, ...inputs.slice(4)], attrs, 0);
      return [scores];
    },
    flops: (inputs) => 8 * numElements(inputs[1]!),
  },
};
