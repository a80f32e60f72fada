// Plans cross-entropy (from logits) and NLL (from log-probabilities) with class-index
// targets, for classification ([N, C] scores, [N] targets) and segmentation
// ([N, C, ...spatial] scores, [N, ...spatial] targets), with class weights, label smoothing,
// an ignore index and reduction 'mean' | 'sum' | 'none'.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import backwardTemplate from '../../shaders/cross-entropy-backward.wgsl';
import rowsTemplate from '../../shaders/cross-entropy.wgsl';
import totalTemplate from '../../shaders/weighted-total.wgsl';
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
import { specialize, wgslNumber, type TemplateValue } from './template.js';

export type Reduction = 'mean' | 'sum' | 'none';

const REDUCTION_CODES: Record<Reduction, number> = { none: 0, sum: 1, mean: 2 };

export interface CrossEntropyGeometry {
  /** Class scores [N, C, ...spatial]; [N, C] for classification. */
  inputShape: Shape;
  /** true: the input is logits (CrossEntropyLoss); false: log-probabilities (NLLLoss). */
  fromLogits: boolean;
  /** Default 'mean'. */
  reduction?: Reduction;
  /** Share of the target moved to a uniform distribution, in [0, 1]. Default 0. */
  labelSmoothing?: number;
  /** Target value whose rows add nothing to the loss and its gradient. Default -100. */
  ignoreIndex?: number;
}

/** The planned forward pass: per-row losses, then the total unless the reduction is 'none'. */
export interface CrossEntropyPlan {
  /**
   * Bindings: (0) scores, (1) targets (i32), (2) class weights [C] (ones when unweighted),
   * (3) row losses [N, ...spatial], (4) row weights [N, ...spatial].
   */
  rows: KernelPlan;
  /** Bindings: (0) row losses, (1) row weights, (2) totals [loss, total weight]. */
  total?: KernelPlan;
  /** Rows: N times the spatial size. */
  rowCount: number;
}

function resolve(geometry: CrossEntropyGeometry) {
  const { inputShape } = geometry;
  checkShape('cross-entropy input', inputShape);
  if (inputShape.length < 2) {
    throw new UserError(
      `Cross-entropy input must be [N, C, ...spatial], got [${inputShape.join(', ')}].`,
    );
  }
  const reduction = geometry.reduction ?? 'mean';
  if (!(reduction in REDUCTION_CODES)) {
    throw new UserError(`Unknown reduction '${reduction}'; expected 'mean', 'sum' or 'none'.`);
  }
  const smoothing = geometry.labelSmoothing ?? 0;
  checkRange('labelSmoothing', smoothing, 0, 1);
  if (!geometry.fromLogits && smoothing > 0) {
    throw new UserError('NLL takes no label smoothing; use cross-entropy from logits.');
  }
  const ignoreIndex = geometry.ignoreIndex ?? -100;
  const elements = numel(inputShape);
  const classes = inputShape[1]!;
  const spatial = numel(inputShape.slice(2));
  const rowCount = inputShape[0]! * spatial;
  const constants: Record<string, TemplateValue> = {
    ROWS: u32(rowCount),
    C: u32(classes),
    S: u32(spatial),
    LOGITS: geometry.fromLogits,
    SMOOTHING: f32(smoothing),
    IGNORE_INDEX: wgslNumber(ignoreIndex, 'i32'),
  };
  return { reduction, elements, rowCount, constants };
}

const kernelName = (geometry: CrossEntropyGeometry) =>
  geometry.fromLogits ? 'cross_entropy' : 'nll';

/** Plans the forward pass. */
export function planCrossEntropy(
  geometry: CrossEntropyGeometry,
  limits: PlanLimits,
): CrossEntropyPlan {
  const rows = planCrossEntropyRows(geometry, limits);
  const total = planCrossEntropyTotal(geometry, limits);
  const { rowCount } = resolve(geometry);
  return total ? { rows, total, rowCount } : { rows, rowCount };
}

/**
 * Plans the per-row kernel alone, with the bindings of CrossEntropyPlan.rows. A tensor over the
 * binding limit runs it once per run of samples, each planned with that run's input shape.
 */
export function planCrossEntropyRows(
  geometry: CrossEntropyGeometry,
  limits: PlanLimits,
): KernelPlan {
  const { elements, rowCount, constants } = resolve(geometry);
  checkTensor(limits, 'cross-entropy input', elements);
  return {
    spec: {
      name: kernelName(geometry),
      source: specialize('cross-entropy', rowsTemplate, constants) + WGSL_LINEAR_WORKGROUP,
      bindings: [
        'read-only-storage',
        'read-only-storage',
        'read-only-storage',
        'storage',
        'storage',
      ],
    },
    workgroups: Math.ceil(rowCount / 256),
    flops: 4 * elements,
    bytes: 4 * (elements + 3 * rowCount),
  };
}

/**
 * Plans the totals kernel over every row of `geometry`, with the bindings of
 * CrossEntropyPlan.total, or returns undefined for reduction 'none'. It binds the row losses
 * and weights whole, so it throws a GpuLimitError when they exceed one binding.
 */
export function planCrossEntropyTotal(
  geometry: CrossEntropyGeometry,
  limits: PlanLimits,
): KernelPlan | undefined {
  const { reduction, rowCount } = resolve(geometry);
  if (reduction === 'none') return undefined;
  checkTensor(limits, 'cross-entropy row losses', rowCount);
  // NOTE: one workgroup totals every row, which is slow on a GPU when the rows are the voxels
  // of a segmentation batch; a partial-sum pass first would fix it.
  const totalSource = specialize('weighted-total', totalTemplate, {
    ROWS: u32(rowCount),
    MEAN: reduction === 'mean',
  });
  return {
    spec: {
      name: `${kernelName(geometry)}_total`,
      source: totalSource,
      bindings: ['read-only-storage', 'read-only-storage', 'storage'],
    },
    workgroups: 1,
    flops: 2 * rowCount,
    bytes: 8 * rowCount + 8,
  };
}

/**
 * Plans the input gradient. Bindings: (0) scores, (1) targets (i32), (2) class weights,
 * (3) the forward's totals (read for 'mean' only; bind any buffer otherwise), (4) the output
 * gradient ([1], or one per row for 'none'), (5) the input gradient.
 */
export function planCrossEntropyBackward(
  geometry: CrossEntropyGeometry,
  limits: PlanLimits,
): KernelPlan {
  const { reduction, elements, rowCount, constants } = resolve(geometry);
  checkTensor(limits, 'cross-entropy input', elements);
  constants.REDUCTION = u32(REDUCTION_CODES[reduction]);
  const source = specialize('cross-entropy-backward', backwardTemplate, constants);
  return {
    spec: {
      name: `${kernelName(geometry)}_backward`,
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: [
        'read-only-storage',
        'read-only-storage',
        'read-only-storage',
        'read-only-storage',
        'read-only-storage',
        'storage',
      ],
    },
    workgroups: Math.ceil(rowCount / 256),
    flops: 8 * elements,
    bytes: 4 * (2 * elements + rowCount),
  };
}
