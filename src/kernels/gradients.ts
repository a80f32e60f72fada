// Plans the kernels that act on gradients between the backward pass and the optimizer:
// accumulation over micro-batches, clipping by value, and clipping by global norm
// (per-tensor partial sums of squares, one fixed-order total, then an in-place scale).

import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import normFactorTemplate from '../../shaders/clip-norm-factor.wgsl';
import mapInplaceTemplate from '../../shaders/map-inplace.wgsl';
import mapIntoTemplate from '../../shaders/map-into.wgsl';
import scaleByTemplate from '../../shaders/scale-by.wgsl';
import sumSquaresTemplate from '../../shaders/sum-squares.wgsl';
import {
  checkRange,
  checkTensor,
  f32,
  u32,
  vectorLayout,
  type KernelPlan,
  type PlanLimits,
} from './common.js';
import { specialize } from './template.js';

/** Gradient elements summed by one workgroup of sum-squares.wgsl. */
const NORM_CHUNK = 4096;

function elementwise(
  name: string,
  template: string,
  elements: number,
  constants: Record<string, string>,
  bindings: KernelPlan['spec']['bindings'],
  limits: PlanLimits,
): KernelPlan {
  checkTensor(limits, name, elements);
  const { type, count } = vectorLayout(elements);
  const source = specialize(name, template, { T: type, COUNT: u32(count), ...constants });
  return {
    spec: { name, source: source + WGSL_LINEAR_WORKGROUP, bindings },
    workgroups: Math.ceil(count / 256),
    flops: elements,
    bytes: 4 * elements * bindings.length,
  };
}

/** Plans `accumulated += grad`. Bindings: (0) grad, (1) accumulated gradient. */
export function planAccumulate(elements: number, limits: PlanLimits): KernelPlan {
  const bindings: KernelPlan['spec']['bindings'] = ['read-only-storage', 'storage'];
  return elementwise(
    'accumulate',
    mapIntoTemplate,
    elements,
    { EXPR: 'acc + x0' },
    bindings,
    limits,
  );
}

/** Plans clamping a gradient to [-clipValue, clipValue] in place. Bindings: (0) gradient. */
export function planClipByValue(
  elements: number,
  clipValue: number,
  limits: PlanLimits,
): KernelPlan {
  checkRange('clipValue', clipValue, 0, Infinity);
  const expression = `clamp(acc, T(${f32(-clipValue)}), T(${f32(clipValue)}))`;
  return elementwise(
    'clip_by_value',
    mapInplaceTemplate,
    elements,
    { EXPR: expression },
    ['storage'],
    limits,
  );
}

/** Partial sums that planSumSquares writes for a gradient of `elements` values. */
export function normPartialCount(elements: number): number {
  return Math.ceil(elements / NORM_CHUNK);
}

/**
 * Plans the partial sums of squares of one gradient into slots [offset, offset +
 * normPartialCount(elements)) of a partials buffer shared by every clipped gradient.
 * Bindings: (0) gradient, (1) partials.
 */
export function planSumSquares(elements: number, offset: number, limits: PlanLimits): KernelPlan {
  checkTensor(limits, 'sum of squares', elements);
  const source = specialize('sum-squares', sumSquaresTemplate, {
    COUNT: u32(elements),
    OFFSET: u32(offset),
  });
  return {
    spec: {
      name: 'sum_squares',
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage'],
    },
    workgroups: normPartialCount(elements),
    flops: 2 * elements,
    bytes: 4 * elements,
  };
}

/**
 * Plans the total norm and clip factor from `partials` partial sums, as
 * torch.nn.utils.clip_grad_norm_ with the L2 norm. Bindings: (0) partials, (1) result
 * [norm, factor].
 */
export function planClipNormFactor(partials: number, maxNorm: number): KernelPlan {
  checkRange('maxNorm', maxNorm, 0, Infinity);
  const source = specialize('clip-norm-factor', normFactorTemplate, {
    PARTIALS: u32(partials),
    MAX_NORM: f32(maxNorm),
  });
  return {
    spec: { name: 'clip_norm_factor', source, bindings: ['read-only-storage', 'storage'] },
    workgroups: 1,
    flops: partials,
    bytes: 4 * partials + 8,
  };
}

/**
 * Plans `tensor *= factors[factorIndex]` in place; clipping by norm binds the result of
 * planClipNormFactor with factorIndex 1. Bindings: (0) tensor, (1) factors.
 */
export function planScaleBy(elements: number, factorIndex: number, limits: PlanLimits): KernelPlan {
  const bindings: KernelPlan['spec']['bindings'] = ['storage', 'read-only-storage'];
  const constants = { FACTOR_INDEX: u32(factorIndex) };
  return elementwise('scale_by', scaleByTemplate, elements, constants, bindings, limits);
}
