// Plans the pointwise losses (MSE, L1, SmoothL1, Huber, BCEWithLogits, KLDiv, and sigmoid
// focal loss as MONAI's FocalLoss) with reduction
// 'mean' | 'sum' | 'none' (and KLDiv's 'batchmean'), and their input gradients: an
// element-wise kernel from the functions of elementwise-functions.wgsl, then a deterministic
// reduction over every axis.

import { UserError } from '../errors.js';
import {
  checkRange,
  checkShape,
  f32,
  numel,
  type KernelPlan,
  type PlanLimits,
  type Shape,
} from './common.js';
import type { Reduction } from './cross-entropy.js';
import { planElementwise } from './elementwise.js';
import { planReduce } from './reduce.js';

export const POINTWISE_LOSSES = [
  'mse',
  'l1',
  'smoothL1',
  'huber',
  'bceWithLogits',
  'klDiv',
  'focal',
] as const;
export type PointwiseLoss = (typeof POINTWISE_LOSSES)[number];

export interface PointwiseLossGeometry {
  loss: PointwiseLoss;
  /** Shape of the prediction and of the target. */
  shape: Shape;
  /** Default 'mean'; 'batchmean' (sum / N) is for klDiv only. */
  reduction?: Reduction | 'batchmean';
  /** smoothL1's quadratic-to-linear threshold. Default 1; 0 makes it L1. */
  beta?: number;
  /** huber's threshold. Default 1. */
  delta?: number;
  /** klDiv: the target is given as log-probabilities. Default false. */
  logTarget?: boolean;
  /** focal: the exponent of (1 - p_t). Default 2. */
  gamma?: number;
  /** focal: weight of the positive targets (1 - alpha for negatives). Default none. */
  alpha?: number;
}

interface Formula {
  /** Loss of prediction x0 against target x1. */
  value: string;
  /** Its derivative with respect to x0. */
  grad: string;
}

function formula(geometry: PointwiseLossGeometry): Formula {
  switch (geometry.loss) {
    case 'mse':
      return { value: '(x0 - x1) * (x0 - x1)', grad: 'T(2.0) * (x0 - x1)' };
    case 'l1':
      return { value: 'abs(x0 - x1)', grad: 'sign(x0 - x1)' };
    case 'smoothL1': {
      const beta = geometry.beta ?? 1;
      checkRange('beta', beta, 0, Infinity);
      if (beta === 0) return { value: 'abs(x0 - x1)', grad: 'sign(x0 - x1)' };
      return {
        value: `smooth_l1_t(x0 - x1, ${f32(beta)})`,
        grad: `smooth_l1_grad_t(x0 - x1, ${f32(beta)})`,
      };
    }
    case 'huber': {
      const delta = geometry.delta ?? 1;
      checkRange('delta', delta, Number.MIN_VALUE, Infinity);
      return {
        value: `huber_t(x0 - x1, ${f32(delta)})`,
        grad: `huber_grad_t(x0 - x1, ${f32(delta)})`,
      };
    }
    // NOTE: BCEWithLogits takes no pos_weight or element weights yet.
    case 'bceWithLogits':
      return { value: 'bce_logits_t(x0, x1)', grad: 'bce_logits_grad_t(x0, x1)' };
    case 'focal': {
      const gamma = geometry.gamma ?? 2;
      checkRange('gamma', gamma, 0, Infinity);
      let value = `focal_t(x0, x1, ${f32(gamma)})`;
      let grad = `focal_grad_t(x0, x1, ${f32(gamma)})`;
      if (geometry.alpha !== undefined) {
        checkRange('alpha', geometry.alpha, 0, 1);
        const factor = `(x1 * ${f32(geometry.alpha)} + (T(1.0) - x1) * ${f32(1 - geometry.alpha)})`;
        value = `${factor} * ${value}`;
        grad = `${factor} * ${grad}`;
      }
      return { value, grad };
    }
    case 'klDiv':
      return geometry.logTarget
        ? { value: 'exp(x1) * (x1 - x0)', grad: '-exp(x1)' }
        : { value: 'kl_div_t(x0, x1)', grad: '-x1' };
    default:
      throw new UserError(
        `Unknown pointwise loss '${geometry.loss}'; expected one of ` +
          `${POINTWISE_LOSSES.join(', ')}.`,
      );
  }
}

function resolve(geometry: PointwiseLossGeometry) {
  checkShape(`${geometry.loss} input`, geometry.shape);
  const reduction = geometry.reduction ?? 'mean';
  const allowed =
    geometry.loss === 'klDiv' ? ['mean', 'sum', 'none', 'batchmean'] : ['mean', 'sum', 'none'];
  if (!allowed.includes(reduction)) {
    throw new UserError(
      `Reduction '${reduction}' is invalid for ${geometry.loss}; expected ${allowed.join(', ')}.`,
    );
  }
  const elements = numel(geometry.shape);
  // Factor applied to every element: the mean's 1 / count, batchmean's 1 / N.
  let scale = 1;
  if (reduction === 'mean') scale = 1 / elements;
  if (reduction === 'batchmean') scale = 1 / geometry.shape[0]!;
  return { reduction, elements, scale, formula: formula(geometry) };
}

export interface PointwiseLossPlan {
  /** Bindings: (0) prediction, (1) target, (2) per-element losses (scaled for batchmean). */
  elementwise: KernelPlan;
  /** Absent for 'none'. Bindings: (0) per-element losses, (1) the loss [1]. */
  reduce?: KernelPlan;
}

/** Plans a pointwise loss. */
export function planPointwiseLoss(
  geometry: PointwiseLossGeometry,
  limits: PlanLimits,
): PointwiseLossPlan {
  const { reduction, formula: f, elements } = resolve(geometry);
  const shape = geometry.shape;
  const value = reduction === 'batchmean' ? `(${f.value}) * ${f32(1 / shape[0]!)}` : f.value;
  const elementwise = planElementwise(geometry.loss, [shape, shape], shape, value, limits);
  if (reduction === 'none') return { elementwise };
  const op = reduction === 'mean' ? 'mean' : 'sum';
  const reduce = planReduce({ shape: [elements], axes: [0], op }, limits);
  return { elementwise, reduce };
}

/**
 * Plans the prediction's gradient. Bindings: (0) prediction, (1) target, (2) output gradient
 * ([1], or the input's shape for 'none'), (3) input gradient.
 */
export function planPointwiseLossBackward(
  geometry: PointwiseLossGeometry,
  limits: PlanLimits,
): KernelPlan {
  const { reduction, formula: f, scale } = resolve(geometry);
  const shape = geometry.shape;
  const gradShape = reduction === 'none' ? shape : [1];
  const expression = scale === 1 ? `(${f.grad}) * x2` : `(${f.grad}) * x2 * ${f32(scale)}`;
  return planElementwise(
    `${geometry.loss}_backward`,
    [shape, shape, gradShape],
    shape,
    expression,
    limits,
  );
}
