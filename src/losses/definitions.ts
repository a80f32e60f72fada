// The built-in losses of PyTorch (1.13) and MONAI's Dice family, each composed from IR ops:
// a zod schema with the library's defaults, the target form and the unreduced loss.
// NOTE: the MONAI losses are tested against a torch transcription of MONAI's formulas, not
// against MONAI itself, which is not installed here.

import { z } from 'zod';
import { range, type TargetKind } from './loss.js';
import type { Tensor } from './tensor.js';

const reduction = z.enum(['mean', 'sum', 'none']).default('mean');

export interface LossDefinition<S extends z.ZodObject = z.ZodObject> {
  schema: S;
  target: (fields: z.output<S>) => TargetKind;
  unreduced: (fields: z.output<S>, output: Tensor, target: Tensor) => Tensor;
}

const define = <S extends z.ZodObject>(definition: LossDefinition<S>) => definition;

/** A pointwise loss of the difference, x - y. */
const ofDifference = (loss: (difference: Tensor) => Tensor) => (output: Tensor, target: Tensor) =>
  loss(output.sub(target));

/** 0.5 m^2 / beta + (|d| - m) with m = min(|d|, beta): SmoothL1 without a select op. */
function smoothL1(difference: Tensor, beta: number): Tensor {
  const absolute = difference.abs();
  if (beta === 0) return absolute;
  const inner = absolute.minimum(beta);
  return inner
    .square()
    .mul(0.5 / beta)
    .add(absolute.sub(inner));
}

/**
 * Computes the overlap terms of MONAI's Dice family per sample and channel [N, C]: the output
 * after the chosen activation, the intersection, and the sums of prediction and ground truth.
 */
function overlap(
  fields: { sigmoid: boolean; softmax: boolean; squaredPred: boolean; batch: boolean },
  output: Tensor,
  target: Tensor,
) {
  let prediction = output;
  if (fields.sigmoid) prediction = prediction.sigmoid();
  if (fields.softmax) prediction = prediction.softmax(1);
  const axes = fields.batch ? [0, ...range(2, output.rank)] : range(2, output.rank);
  const intersection = prediction.mul(target).sum(axes);
  const groundTruth = fields.squaredPred ? target.square().sum(axes) : target.sum(axes);
  const predicted = fields.squaredPred ? prediction.square().sum(axes) : prediction.sum(axes);
  return { prediction, intersection, groundTruth, predicted };
}

/**
 * Drops channel 0 (the background) from `loss` by weighting it 0. The other channels weigh
 * C / (C - 1) for mean reductions, so that the mean equals the mean over them, and 1 for sums.
 */
function withoutBackground(
  loss: Tensor,
  fields: { includeBackground: boolean; reduction: string },
  channelAxis: number,
): Tensor {
  if (fields.includeBackground) return loss;
  const channels = loss.shape[channelAxis]!;
  const kept = fields.reduction === 'sum' ? 1 : channels / (channels - 1);
  const mask = new Float32Array(channels).fill(kept);
  mask[0] = 0;
  const shape = [channels, ...Array<number>(loss.rank - channelAxis - 1).fill(1)];
  return loss.mul(loss.constant(mask, shape));
}

const overlapFields = {
  reduction,
  includeBackground: z.boolean().default(true),
  toOnehotY: z.boolean().default(false),
  sigmoid: z.boolean().default(false),
  softmax: z.boolean().default(false),
  squaredPred: z.boolean().default(false),
  smoothNr: z.number().min(0).default(1e-5),
  smoothDr: z.number().min(0).default(1e-5),
  batch: z.boolean().default(false),
};

const { squaredPred: _squaredPred, ...tverskyFields } = overlapFields;

const overlapTarget = (fields: { toOnehotY: boolean }): TargetKind =>
  fields.toOnehotY ? 'onehot' : 'dense';

function dice(fields: z.output<z.ZodObject<typeof overlapFields>>, output: Tensor, target: Tensor) {
  const { intersection, groundTruth, predicted } = overlap(fields, output, target);
  const numerator = intersection.mul(2).add(fields.smoothNr);
  const denominator = groundTruth.add(predicted).add(fields.smoothDr);
  const loss = numerator.div(denominator).rsub(1);
  return withoutBackground(loss, fields, loss.rank - 1);
}

/**
 * MONAI's GeneralizedDiceLoss: Dice with per-channel weights 1 / count^2 ('square'), 1 / count
 * ('simple') or 1 ('uniform'), where count is the ground truth's sum. A channel absent from
 * the ground truth gets the largest weight of the others, as MONAI replaces infinite weights.
 * NOTE: absent channels are found as relu(1 - count), which holds for 0/1 ground truths only;
 * prepareTarget rejects other values.
 */
function generalizedDice(
  fields: z.output<z.ZodObject<typeof generalizedDiceFields>>,
  output: Tensor,
  target: Tensor,
) {
  const terms = overlap({ ...fields, squaredPred: false }, output, target);
  const { intersection, groundTruth, predicted } = terms;
  const channels = output.shape[1]!;
  const mask = new Float32Array(channels).fill(1);
  if (!fields.includeBackground) mask[0] = 0;
  const include = groundTruth.constant(mask);
  const absent = groundTruth.rsub(1).relu().mul(include);
  const present = absent.rsub(1).mul(include);
  const count = groundTruth.add(absent);
  const inverse = count.constant(1).div(count);
  const weightOf = { square: inverse.square(), simple: inverse, uniform: count.mul(0).add(1) };
  const weight = weightOf[fields.wType].mul(present);
  const reduceAxis = fields.batch ? 0 : 1;
  const largest = weight.max([reduceAxis], true);
  const weights = weight.add(absent.mul(largest));
  const numerator = intersection.mul(weights).sum([reduceAxis], true).mul(2).add(fields.smoothNr);
  const denominator = groundTruth
    .add(predicted)
    .mul(weights)
    .sum([reduceAxis], true)
    .add(fields.smoothDr);
  return numerator.div(denominator).rsub(1);
}

const { squaredPred: _noSquaredPred, ...generalizedDiceBase } = overlapFields;
const generalizedDiceFields = {
  ...generalizedDiceBase,
  wType: z.enum(['square', 'simple', 'uniform']).default('square'),
};

export const crossEntropyFields = {
  reduction,
  /** Per-class weights, or null for none. */
  weight: z.array(z.number().min(0)).nullable().default(null),
  /** Target value that contributes nothing (PyTorch's default -100). */
  ignoreIndex: z.number().int().default(-100),
  labelSmoothing: z.number().min(0).max(1).default(0),
};

export const DEFINITIONS = {
  MSELoss: define({
    schema: z.strictObject({ reduction }),
    target: () => 'dense',
    unreduced: (_, output, target) => ofDifference((d) => d.square())(output, target),
  }),
  L1Loss: define({
    schema: z.strictObject({ reduction }),
    target: () => 'dense',
    unreduced: (_, output, target) => ofDifference((d) => d.abs())(output, target),
  }),
  SmoothL1Loss: define({
    schema: z.strictObject({ reduction, beta: z.number().min(0).default(1) }),
    target: () => 'dense',
    unreduced: (fields, output, target) => smoothL1(output.sub(target), fields.beta),
  }),
  HuberLoss: define({
    schema: z.strictObject({ reduction, delta: z.number().positive().default(1) }),
    target: () => 'dense',
    // Huber(d, delta) = delta * SmoothL1(d, beta = delta).
    unreduced: (fields, output, target) =>
      smoothL1(output.sub(target), fields.delta).mul(fields.delta),
  }),
  BCEWithLogitsLoss: define({
    schema: z.strictObject({
      reduction,
      /** Weight of the positive examples per class (broadcast on the last axis), or null. */
      posWeight: z.array(z.number().min(0)).nullable().default(null),
    }),
    target: () => 'dense',
    // (1 - y) x + (1 + (p - 1) y) softplus(-x), which is softplus(x) - x y when p = 1.
    unreduced: (fields, output, target) => {
      if (!fields.posWeight) return output.softplus().sub(output.mul(target));
      const weight = output.constant(Float32Array.from(fields.posWeight));
      const logWeight = weight.sub(1).mul(target).add(1);
      return target.rsub(1).mul(output).add(logWeight.mul(output.neg().softplus()));
    },
  }),
  KLDivLoss: define({
    schema: z.strictObject({
      reduction: z.enum(['mean', 'sum', 'none', 'batchmean']).default('mean'),
      logTarget: z.boolean().default(false),
    }),
    target: () => 'dense',
    // y (log y - x), with y log y taken as 0 at y = 0 (PyTorch's xlogy): log(max(y, 1e-30))
    // differs from log(y) only for 0 < y < 1e-30, where y log y is below 7e-29.
    unreduced: (fields, output, target) =>
      fields.logTarget
        ? target.exp().mul(target.sub(output))
        : target.mul(target.maximum(1e-30).log().sub(output)),
  }),
  FocalLoss: define({
    schema: z.strictObject({
      reduction,
      gamma: z.number().min(0).default(2),
      /** Weight of the positive class, in [0, 1], or null for none. */
      alpha: z.number().min(0).max(1).nullable().default(null),
      includeBackground: z.boolean().default(true),
      toOnehotY: z.boolean().default(false),
    }),
    target: overlapTarget,
    // MONAI's sigmoid focal loss: BCE-with-logits scaled by sigmoid(-x (2y - 1))^gamma.
    unreduced: (fields, output, target) => {
      const bce = output.softplus().sub(output.mul(target));
      const sign = target.mul(2).sub(1);
      const focal = output.mul(sign).neg().logSigmoid().mul(fields.gamma).exp();
      let loss = focal.mul(bce);
      if (fields.alpha !== null) {
        const alpha = fields.alpha;
        loss = loss.mul(target.mul(2 * alpha - 1).add(1 - alpha));
      }
      return withoutBackground(loss, fields, 1);
    },
  }),
  DiceLoss: define({
    schema: z.strictObject(overlapFields),
    target: overlapTarget,
    unreduced: dice,
  }),
  DiceCELoss: define({
    schema: z.strictObject({
      ...overlapFields,
      // MONAI adds the Dice and cross-entropy means; other reductions have no single meaning.
      reduction: z.literal('mean').default('mean'),
      lambdaDice: z.number().min(0).default(1),
      lambdaCe: z.number().min(0).default(1),
    }),
    target: overlapTarget,
    // Dice per sample and channel plus the cross-entropy of the (one-hot) target, the latter
    // spread evenly over the channels so that the mean over [N, C] is MONAI's sum of means.
    unreduced: (fields, output, target) => {
      const diceLoss = dice(fields, output, target).mul(fields.lambdaDice);
      const crossEntropy = target.mul(output.logSoftmax(1)).sum([1]).neg();
      const perSample = crossEntropy
        .mean(range(1, crossEntropy.rank), true)
        .reshape([output.shape[0]!, 1]);
      return diceLoss.add(perSample.mul(fields.lambdaCe));
    },
  }),
  GeneralizedDiceLoss: define({
    schema: z.strictObject(generalizedDiceFields),
    target: overlapTarget,
    unreduced: generalizedDice,
  }),
  TverskyLoss: define({
    schema: z.strictObject({
      ...tverskyFields,
      alpha: z.number().min(0).default(0.5),
      beta: z.number().min(0).default(0.5),
    }),
    target: overlapTarget,
    unreduced: (fields, output, target) => {
      const terms = overlap({ ...fields, squaredPred: false }, output, target);
      const { intersection, groundTruth, predicted } = terms;
      // fp = sum p - tp and fn = sum g - tp, because sum p (1 - g) = sum p - sum p g.
      const falsePositive = predicted.sub(intersection);
      const falseNegative = groundTruth.sub(intersection);
      const denominator = intersection
        .add(falsePositive.mul(fields.alpha))
        .add(falseNegative.mul(fields.beta))
        .add(fields.smoothDr);
      const score = intersection.add(fields.smoothNr).div(denominator);
      const loss = score.rsub(1);
      return withoutBackground(loss, fields, loss.rank - 1);
    },
  }),
} satisfies Record<string, LossDefinition>;

export type DefinedLossName = keyof typeof DEFINITIONS;
