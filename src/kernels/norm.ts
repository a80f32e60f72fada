// Plans batch, instance, group and layer normalisation, forward and backward. All four share
// one description of which elements form a statistics group and which affine parameter each
// element uses, so one set of kernels serves them:
//   forward: norm-stats (batch statistics) or bn-running (evaluation), then norm-apply;
//   training batch norm also runs bn-running to update the running statistics;
//   backward: norm-backward-sums (with batch statistics), norm-backward-apply, and
//   norm-affine-grad for the weight and bias gradients.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import affineGradTemplate from '../../shaders/norm-affine-grad.wgsl';
import applyTemplate from '../../shaders/norm-apply.wgsl';
import backwardApplyTemplate from '../../shaders/norm-backward-apply.wgsl';
import backwardSumsTemplate from '../../shaders/norm-backward-sums.wgsl';
import sumsAffineSource from '../../shaders/norm-sums-affine.wgsl';
import sumsPlainSource from '../../shaders/norm-sums-plain.wgsl';
import runningTemplate from '../../shaders/bn-running.wgsl';
import mergeTemplate from '../../shaders/bn-merge.wgsl';
import statsTemplate from '../../shaders/norm-stats.wgsl';
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
import { epilogueConstants, epilogueSource } from './matmul-tile.js';
import type { Epilogue } from './plan.js';
import { specialize, type TemplateValue } from './template.js';

export type NormKind = 'batchNorm' | 'instanceNorm' | 'groupNorm' | 'layerNorm';

export interface NormGeometry {
  kind: NormKind;
  /** [N, C, ...spatial]; layerNorm accepts any shape. */
  inputShape: Shape;
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /**
   * Learnable per-channel (layerNorm: per-element) weight and bias. Default true, except
   * instanceNorm (false), as in PyTorch.
   */
  affine?: boolean;
  /** groupNorm's group count, dividing C. */
  groups?: number;
  /** layerNorm: how many trailing axes are normalised together. Default 1. */
  normalizedDims?: number;
  /** batchNorm's running-statistics momentum. Default 0.1. */
  momentum?: number;
}

/** Layout of the statistics groups, and the affine parameter of each element. */
interface NormLayout {
  groups: number;
  groupStride: number;
  blocks: number;
  blockLength: number;
  blockStride: number;
  /** Group of element i: (i / gDiv) % gMod. */
  gDiv: number;
  gMod: number;
  /** Affine index of element i: (i / aDiv) % aMod. */
  aDiv: number;
  aMod: number;
  elements: number;
  affine: boolean;
  eps: number;
}

function channelLayout(geometry: NormGeometry, shape: Shape): NormLayout {
  if (shape.length < 2) {
    throw new UserError(`${geometry.kind} input must be [N, C, ...], got [${shape.join(', ')}].`);
  }
  const [n, c] = [shape[0]!, shape[1]!];
  const spatial = numel(shape.slice(2));
  const common = {
    elements: n * c * spatial,
    aDiv: spatial,
    aMod: c,
    affine: geometry.affine ?? geometry.kind !== 'instanceNorm',
    eps: geometry.eps ?? 1e-5,
  };
  if (geometry.kind === 'batchNorm') {
    return {
      ...common,
      groups: c,
      groupStride: spatial,
      blocks: n,
      blockLength: spatial,
      blockStride: c * spatial,
      gDiv: spatial,
      gMod: c,
    };
  }
  const groupCount = geometry.kind === 'instanceNorm' ? c : (geometry.groups ?? 0);
  if (!Number.isInteger(groupCount) || groupCount < 1 || c % groupCount !== 0) {
    throw new UserError(
      `groupNorm groups must be a positive integer dividing the ${c} channels, got ` +
        `${geometry.groups}.`,
    );
  }
  const length = (c / groupCount) * spatial;
  return {
    ...common,
    groups: n * groupCount,
    groupStride: length,
    blocks: 1,
    blockLength: length,
    blockStride: length,
    gDiv: length,
    gMod: n * groupCount,
  };
}

function layerLayout(geometry: NormGeometry, shape: Shape): NormLayout {
  const dims = geometry.normalizedDims ?? 1;
  if (!Number.isInteger(dims) || dims < 1 || dims > shape.length) {
    throw new UserError(
      `layerNorm normalizedDims must be from 1 to the rank ${shape.length}, got ${dims}.`,
    );
  }
  const length = numel(shape.slice(shape.length - dims));
  const rows = numel(shape) / length;
  return {
    groups: rows,
    groupStride: length,
    blocks: 1,
    blockLength: length,
    blockStride: length,
    gDiv: length,
    gMod: rows,
    aDiv: 1,
    aMod: length,
    elements: rows * length,
    affine: geometry.affine ?? true,
    eps: geometry.eps ?? 1e-5,
  };
}

/**
 * Resolves and checks the layout of a normalisation. `limits` is undefined for plans that do
 * not bind the input (statistics sizes, running statistics, merges), which then also serve
 * inputs split into runs of samples.
 */
function layout(geometry: NormGeometry, limits: PlanLimits | undefined): NormLayout {
  const kinds: NormKind[] = ['batchNorm', 'instanceNorm', 'groupNorm', 'layerNorm'];
  if (!kinds.includes(geometry.kind)) {
    throw new UserError(`Unknown normalisation '${geometry.kind}'; expected ${kinds.join(', ')}.`);
  }
  checkShape(`${geometry.kind} input`, geometry.inputShape);
  const resolved =
    geometry.kind === 'layerNorm'
      ? layerLayout(geometry, geometry.inputShape)
      : channelLayout(geometry, geometry.inputShape);
  checkRange('eps', resolved.eps, 0, Infinity);
  if (limits) checkTensor(limits, `${geometry.kind} input`, resolved.elements);
  return resolved;
}

/**
 * Constants of the group-reduction kernels, in vec4 units when every run, stride and affine
 * block is a multiple of 4 elements.
 */
function groupConstants(l: NormLayout): Record<string, TemplateValue> {
  const fits = [l.groupStride, l.blockLength, l.blockStride, l.aDiv].every((n) => n % 4 === 0);
  const width = fits ? 4 : 1;
  return {
    T: fits ? 'vec4f' : 'f32',
    WIDTH: u32(width),
    LANES: fits ? 'v.x + v.y + v.z + v.w' : 'v',
    GROUPS: u32(l.groups),
    GROUP_STRIDE: u32(l.groupStride / width),
    BLOCKS: u32(l.blocks),
    BLOCK_LEN: u32(l.blockLength / width),
    BLOCK_STRIDE: u32(l.blockStride / width),
  };
}

function indexConstants(l: NormLayout): Record<string, TemplateValue> {
  return {
    GROUPS: u32(l.groups),
    G_DIV: u32(l.gDiv),
    G_MOD: u32(l.gMod),
    A_DIV: u32(l.aDiv),
    A_MOD: u32(l.aMod),
  };
}

/** 4 when every run of one group and affine index spans whole vec4s, else 1. */
function vectorWidth(l: NormLayout): number {
  return l.gDiv % 4 === 0 && l.aDiv % 4 === 0 ? 4 : 1;
}

function vectorConstants(l: NormLayout, width: number): Record<string, TemplateValue> {
  return {
    T: width === 4 ? 'vec4f' : 'f32',
    WIDTH: u32(width),
    COUNT: u32(l.elements / width),
  };
}

function plan(
  name: string,
  source: string,
  readOnly: number,
  writable: number,
  workgroups: number,
  elements: number,
): KernelPlan {
  return {
    spec: {
      name,
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: [
        ...new Array<'read-only-storage'>(readOnly).fill('read-only-storage'),
        ...new Array<'storage'>(writable).fill('storage'),
      ],
    },
    workgroups,
    flops: 4 * elements,
    bytes: 4 * elements * (readOnly + writable),
  };
}

/** Elements of the statistics buffer: [mean, invstd, biased variance] per group. */
export function normStatsElements(geometry: NormGeometry, limits: PlanLimits): number {
  const elements = 3 * layout(geometry, undefined).groups;
  checkTensor(limits, `${geometry.kind} statistics`, elements);
  return elements;
}

/** Elements of each affine parameter (weight and bias), 0 when not affine. */
export function normAffineElements(geometry: NormGeometry, limits: PlanLimits): number {
  const l = layout(geometry, undefined);
  checkTensor(limits, `${geometry.kind} weight`, l.affine ? l.aMod : 0);
  return l.affine ? l.aMod : 0;
}

/** Plans the batch statistics. Bindings: (0) x, (1) stats. */
export function planNormStats(geometry: NormGeometry, limits: PlanLimits): KernelPlan {
  const l = layout(geometry, limits);
  // NOTE: one workgroup per group leaves a large GPU mostly idle for batch norm over few
  // channels; a split pass that merges partial (count, mean, M2) triples would fix it.
  const source = specialize('norm-stats', statsTemplate, { ...groupConstants(l), EPS: f32(l.eps) });
  return plan(`${geometry.kind}_stats`, source, 1, 1, l.groups, l.elements);
}

/**
 * Plans the normalisation itself, followed by `activation`'s activation when one is fused
 * into it. Bindings: (0) x, (1) stats, (2) weight, (3) bias (any buffers when not affine),
 * (4) y.
 */
export function planNormApply(
  geometry: NormGeometry,
  limits: PlanLimits,
  activation: Epilogue = {},
): KernelPlan {
  const l = layout(geometry, limits);
  const width = vectorWidth(l);
  const { ACTIVATION, ACTIVATION_PARAMETER } = epilogueConstants(activation);
  const source = specialize('norm-apply', `${applyTemplate}\n${epilogueSource}`, {
    ...indexConstants(l),
    ...vectorConstants(l, width),
    AFFINE: l.affine,
    ACTIVATION: ACTIVATION!,
    ACTIVATION_PARAMETER: ACTIVATION_PARAMETER!,
    ACTIVATE_ALL:
      width === 4 ? 'T(activate(v.x), activate(v.y), activate(v.z), activate(v.w))' : 'activate(v)',
  });
  return plan(geometry.kind, source, 4, 1, Math.ceil(l.elements / width / 256), l.elements);
}

/**
 * Plans batch norm's running statistics: in training, their momentum update from the batch
 * statistics; in evaluation, the statistics norm-apply reads, from them. Bindings: (0) stats,
 * (1) running_mean, (2) running_var.
 */
export function planBatchNormRunning(
  geometry: NormGeometry,
  training: boolean,
  limits: PlanLimits,
): KernelPlan {
  if (geometry.kind !== 'batchNorm') {
    throw new UserError(`Running statistics belong to batchNorm, not ${geometry.kind}.`);
  }
  const l = layout(geometry, undefined);
  checkTensor(limits, 'batchNorm statistics', 3 * l.groups);
  const momentum = geometry.momentum ?? 0.1;
  checkRange('momentum', momentum, 0, 1);
  const perChannel = l.blocks * l.blockLength;
  if (training && perChannel < 2) {
    throw new UserError(
      `batchNorm in training needs more than 1 value per channel, got input ` +
        `[${geometry.inputShape.join(', ')}]. Use a larger batch or spatial size.`,
    );
  }
  const source = specialize('bn-running', runningTemplate, {
    CHANNELS: u32(l.groups),
    TRAINING: training,
    MOMENTUM: f32(momentum),
    UNBIAS: f32(perChannel > 1 ? perChannel / (perChannel - 1) : 1),
    EPS: f32(l.eps),
  });
  return {
    spec: { name: 'batchNorm_running', source, bindings: ['storage', 'storage', 'storage'] },
    workgroups: Math.ceil(l.groups / 64),
    flops: 6 * l.groups,
    bytes: 20 * l.groups,
  };
}

/**
 * Plans the per-group sums of the input gradient (needed with batch statistics only).
 * Bindings: (0) x, (1) dy, (2) stats, (3) weight (any buffer when not affine), (4) sums
 * (2 values per group). With `affineGradients` (an affine batch norm), the same sums also give
 * the weight and bias gradients, written to bindings (5) dweight and (6) dbias.
 */
export function planNormBackwardSums(
  geometry: NormGeometry,
  limits: PlanLimits,
  affineGradients = false,
): KernelPlan {
  const l = layout(geometry, limits);
  if (affineGradients && (geometry.kind !== 'batchNorm' || !l.affine)) {
    throw new UserError(
      `Only an affine batchNorm's sums give its weight and bias gradients, not ${geometry.kind}.`,
    );
  }
  const tail = affineGradients ? sumsAffineSource : sumsPlainSource;
  const source = specialize('norm-backward-sums', `${backwardSumsTemplate}\n${tail}`, {
    ...groupConstants(l),
    A_DIV: u32(l.aDiv),
    A_MOD: u32(l.aMod),
    AFFINE: l.affine,
  });
  const writable = affineGradients ? 3 : 1;
  return plan(`${geometry.kind}_backward_sums`, source, 4, writable, l.groups, l.elements);
}

/**
 * Plans the input gradient. `groupSize` overrides the elements of a statistics group, for a
 * batch norm split into runs of samples whose sums cover the whole batch. `batchStats` is true when the forward pass used batch
 * statistics (training, and always for instance, group and layer norm). Bindings: (0) x,
 * (1) dy, (2) stats, (3) weight, (4) sums (any buffer without batch statistics), (5) dx.
 */
export function planNormBackward(
  geometry: NormGeometry,
  batchStats: boolean,
  limits: PlanLimits,
  groupSize?: number,
): KernelPlan {
  const l = layout(geometry, limits);
  const width = vectorWidth(l);
  const source = specialize('norm-backward-apply', backwardApplyTemplate, {
    ...indexConstants(l),
    ...vectorConstants(l, width),
    GROUP_SIZE: u32(groupSize ?? l.blocks * l.blockLength),
    AFFINE: l.affine,
    BATCH_STATS: batchStats,
  });
  const workgroups = Math.ceil(l.elements / width / 256);
  return plan(`${geometry.kind}_backward`, source, 5, 1, workgroups, l.elements);
}

/**
 * Plans the weight and bias gradients. Bindings: (0) x, (1) dy, (2) stats, (3) dweight,
 * (4) dbias.
 */
export function planNormAffineGrad(geometry: NormGeometry, limits: PlanLimits): KernelPlan {
  const l = layout(geometry, limits);
  if (!l.affine) throw new UserError(`${geometry.kind} without affine has no weight gradient.`);
  const source = specialize('norm-affine-grad', affineGradTemplate, {
    ...indexConstants(l),
    RUNS: u32(l.elements / (l.aDiv * l.aMod)),
  });
  // NOTE: layerNorm's affine indices are contiguous (aDiv 1), so these reads are strided by
  // the row length; a transposed pass would coalesce them.
  return plan(`${geometry.kind}_affine_grad`, source, 3, 2, l.aMod, l.elements);
}

/** A run of samples of a batch norm's input split into runs (see planBatchNormMerge). */
export interface SampleRun {
  /** Samples in this run. */
  samples: number;
  /** Samples of the runs merged before this one. */
  before: number;
  /** The batch's last run. */
  last: boolean;
}

/**
 * Plans the merge of one run's per-plane statistics (planNormStats of instanceNorm over the
 * run) into the batch-norm statistics of the whole input `geometry`. Bindings: (0) the run's
 * plane statistics, (1) the batch statistics.
 */
export function planBatchNormMerge(
  geometry: NormGeometry,
  run: SampleRun,
  limits: PlanLimits,
): KernelPlan {
  const l = layout(geometry, undefined);
  checkTensor(limits, 'batchNorm plane statistics', 3 * run.samples * l.groups);
  if (geometry.kind !== 'batchNorm') {
    throw new UserError(`Only batchNorm merges statistics of runs, not ${geometry.kind}.`);
  }
  const source = specialize('bn-merge', mergeTemplate, {
    CHANNELS: u32(l.groups),
    SAMPLES: u32(run.samples),
    BEFORE: u32(run.before),
    PLANE: u32(l.blockLength),
    FIRST: run.before === 0,
    LAST: run.last,
    EPS: f32(l.eps),
  });
  return {
    spec: {
      name: 'batchNorm_merge',
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage'],
    },
    workgroups: Math.ceil(l.groups / 64),
    flops: 8 * run.samples * l.groups,
    bytes: 4 * (3 * run.samples * l.groups + 3 * l.groups),
  };
}
