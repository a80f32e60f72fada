// Plans the overlap losses of segmentation, as MONAI defines them: Dice (optionally squared
// or Jaccard), generalized Dice and Tversky, over class probabilities [N, C, ...spatial]
// (after a softmax or sigmoid, which the caller plans) and class-index labels
// [N, ...spatial]. DiceCE is this Dice plus planCrossEntropy on the logits, weighted by the
// caller. Three kernels: per-(n, c) sums, the loss with its per-(n, c) derivatives, and the
// gradient spread over the voxels.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import backwardTemplate from '../../shaders/overlap-backward.wgsl';
import lossTemplate from '../../shaders/overlap-loss.wgsl';
import sumsTemplate from '../../shaders/overlap-sums.wgsl';
import {
  checkRange,
  checkShape,
  checkTensor,
  f32,
  numel,
  u32,
  type KernelPlan,
  type PlanLimits,
  type Shape,
} from './common.js';
import type { Reduction } from './cross-entropy.js';
import { specialize } from './template.js';

export type OverlapLoss = 'dice' | 'generalizedDice' | 'tversky';

export interface OverlapLossGeometry {
  loss: OverlapLoss;
  /** Class probabilities [N, C, ...spatial]. */
  inputShape: Shape;
  /** Default 'mean' over the scores. */
  reduction?: Reduction;
  /** Keep class 0 in the loss. Default true. */
  includeBackground?: boolean;
  /** Dice: sum p^2 in the denominator. Default false. */
  squaredPred?: boolean;
  /** Dice: compute the Jaccard index instead. Default false. */
  jaccard?: boolean;
  /** Sum over the batch before scoring. Default false. */
  batch?: boolean;
  /** Added to the numerator. Default 1e-5. */
  smoothNr?: number;
  /** Added to the denominator. Default 1e-5. */
  smoothDr?: number;
  /** Tversky's weight of false positives. Default 0.5. */
  alpha?: number;
  /** Tversky's weight of false negatives. Default 0.5. */
  beta?: number;
  /** Generalized Dice's class weights. Default 'square'. */
  weightType?: 'square' | 'simple' | 'uniform';
}

const KINDS: Record<OverlapLoss, number> = { dice: 0, generalizedDice: 1, tversky: 2 };
const WEIGHT_TYPES = { uniform: 0, simple: 1, square: 2 };
const REDUCTIONS: Record<Reduction, number> = { none: 0, sum: 1, mean: 2 };

function resolve(geometry: OverlapLossGeometry, limits: PlanLimits) {
  const shape = geometry.inputShape;
  checkShape(`${geometry.loss} input`, shape);
  if (!(geometry.loss in KINDS)) {
    throw new UserError(
      `Unknown overlap loss '${geometry.loss}'; expected dice, generalizedDice or tversky.`,
    );
  }
  if (shape.length < 3) {
    throw new UserError(
      `${geometry.loss} input must be [N, C, ...spatial], got [${shape.join(', ')}].`,
    );
  }
  const reduction = geometry.reduction ?? 'mean';
  if (!(reduction in REDUCTIONS)) throw new UserError(`Unknown reduction '${reduction}'.`);
  const weightType = geometry.weightType ?? 'square';
  if (!(weightType in WEIGHT_TYPES)) throw new UserError(`Unknown weightType '${weightType}'.`);
  const [n, c] = [shape[0]!, shape[1]!];
  const includeBackground = geometry.includeBackground ?? true;
  if (!includeBackground && c < 2) {
    throw new UserError(`${geometry.loss} without background needs at least 2 classes, got ${c}.`);
  }
  const alpha = geometry.alpha ?? 0.5;
  const beta = geometry.beta ?? 0.5;
  checkRange('alpha', alpha, 0, Infinity);
  checkRange('beta', beta, 0, Infinity);
  const smoothNr = geometry.smoothNr ?? 1e-5;
  const smoothDr = geometry.smoothDr ?? 1e-5;
  checkRange('smoothNr', smoothNr, 0, Infinity);
  checkRange('smoothDr', smoothDr, 0, Infinity);
  const elements = numel(shape);
  checkTensor(limits, `${geometry.loss} input`, elements);
  const batch = geometry.batch ?? false;
  const classes = includeBackground ? c : c - 1;
  const samples = batch ? 1 : n;
  const scores = geometry.loss === 'generalizedDice' ? samples : samples * classes;
  const squared = geometry.loss === 'dice' && (geometry.squaredPred ?? false);
  return {
    n,
    c,
    spatial: elements / (n * c),
    elements,
    scores,
    squared,
    constants: {
      N: u32(n),
      C: u32(c),
      KIND: u32(KINDS[geometry.loss]),
      INCLUDE_BACKGROUND: includeBackground,
      SQUARED: squared,
      JACCARD: geometry.loss === 'dice' && (geometry.jaccard ?? false),
      BATCH: batch,
      REDUCTION: u32(REDUCTIONS[reduction]),
      SMOOTH_NR: f32(smoothNr),
      SMOOTH_DR: f32(smoothDr),
      ALPHA: f32(alpha),
      BETA: f32(beta),
      WEIGHT_TYPE: u32(WEIGHT_TYPES[weightType]),
    },
  };
}

export interface OverlapLossPlan {
  /** Bindings: (0) probabilities, (1) labels (i32), (2) sums (4 * N * C values). */
  sums: KernelPlan;
  /**
   * Bindings: (0) sums, (1) output gradient ([1], or one per score for 'none'), (2) the loss
   * (`lossElements` values), (3) coefficients (2 * N * C values).
   */
  loss: KernelPlan;
  /** Bindings: (0) probabilities, (1) labels, (2) coefficients, (3) probability gradient. */
  backward: KernelPlan;
  /** 1, or the number of scores for 'none'. */
  lossElements: number;
  /** N * C, the pairs with sums and coefficients. */
  pairs: number;
}

/**
 * Plans the loss and its gradient with respect to the probabilities. The loss kernel needs
 * the output gradient at forward time, because it also writes the derivatives that the
 * backward kernel reads; bind [1.0] when only the loss is wanted.
 */
export function planOverlapLoss(
  geometry: OverlapLossGeometry,
  limits: PlanLimits,
): OverlapLossPlan {
  const r = resolve(geometry, limits);
  const pairs = r.n * r.c;
  const sumsSource = specialize('overlap-sums', sumsTemplate, {
    UNITS: u32(pairs),
    C: u32(r.c),
    S: u32(r.spatial),
  });
  const name = geometry.loss;
  const sums: KernelPlan = {
    spec: {
      name: `${name}_sums`,
      source: sumsSource + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'read-only-storage', 'storage'],
    },
    workgroups: pairs,
    flops: 6 * r.elements,
    bytes: 4 * (r.elements + r.n * r.spatial),
  };
  const loss: KernelPlan = {
    spec: {
      name: `${name}_loss`,
      source: specialize('overlap-loss', lossTemplate, r.constants),
      bindings: ['read-only-storage', 'read-only-storage', 'storage', 'storage'],
    },
    workgroups: 1,
    flops: 20 * pairs,
    bytes: 32 * pairs,
  };
  const backwardSource = specialize('overlap-backward', backwardTemplate, {
    COUNT: u32(r.elements),
    C: u32(r.c),
    S: u32(r.spatial),
    SQUARED: r.squared,
  });
  const backward: KernelPlan = {
    spec: {
      name: `${name}_backward`,
      source: backwardSource + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
    },
    workgroups: Math.ceil(r.elements / 256),
    flops: 3 * r.elements,
    bytes: 8 * r.elements,
  };
  const lossElements = (geometry.reduction ?? 'mean') === 'none' ? r.scores : 1;
  return { sums, loss, backward, lossElements, pairs };
}
