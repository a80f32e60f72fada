// Lowerings of batch, instance, group and layer normalisation and their gradients. The
// forward saves its statistics ([mean, invstd, variance] per group) for the gradient, keyed by
// the input value, so the backward pass reads them instead of recomputing.

import { numElements, type Node, type Value } from '../graph/ir.js';
import type {
  BatchNormAttrs,
  GroupNormAttrs,
  InstanceNormAttrs,
  LayerNormAttrs,
} from '../graph/ops/index.js';
import {
  registerLowering,
  UNUSED,
  value,
  type LowerContext,
  type LoweredDispatch,
  type Operand,
} from './lower.js';
import { planSplitSum } from './conv-wgrad.js';
import {
  normAffineElements,
  normStatsElements,
  planBatchNormRunning,
  planNormAffineGrad,
  planNormApply,
  planNormBackward,
  planNormBackwardSums,
  planNormStats,
  type NormGeometry,
  type NormKind,
} from './norm.js';
import { lowerBatchNormGradRuns, lowerBatchNormRuns } from './split-norm.js';
import type { Epilogue } from './plan.js';
import { splitUnits, windowOf, type UnitRange } from './split.js';

type NormAttrs = BatchNormAttrs | InstanceNormAttrs | GroupNormAttrs | LayerNormAttrs;

function geometry(kind: NormKind, x: Value, attrs: NormAttrs): NormGeometry {
  return {
    kind,
    inputShape: x.shape,
    eps: attrs.eps,
    affine: attrs.affine,
    groups: 'numGroups' in attrs ? attrs.numGroups : undefined,
    normalizedDims: 'normalizedShape' in attrs ? attrs.normalizedShape.length : undefined,
    momentum: 'momentum' in attrs ? attrs.momentum : undefined,
  };
}

function statistics(context: LowerContext, kind: NormKind, x: Value, norm: NormGeometry) {
  return context.saved(`${kind}:${x.id}`, normStatsElements(norm, context.limits));
}

/** True when the forward pass normalises with statistics of the batch it is given. */
function batchStatistics(kind: NormKind, attrs: NormAttrs, training: boolean): boolean {
  if (kind !== 'batchNorm') return true;
  return training || !(attrs as BatchNormAttrs).trackRunningStats;
}

/**
 * Runs of samples that each dispatch normalises: one run when x fits one binding. Layer norm
 * over every axis of its input is not split, so its planner rejects an input over the limit.
 */
function samplePieces(
  kind: NormKind,
  x: Value,
  attrs: NormAttrs,
  context: LowerContext,
): UnitRange[] {
  const [batch] = x.shape;
  const whole = [{ start: 0, count: batch! }];
  const acrossBatch =
    kind === 'layerNorm' && (attrs as LayerNormAttrs).normalizedShape.length >= x.shape.length;
  if (acrossBatch || x.shape.length < 2) return whole;
  const perSample = numElements(x.shape.slice(1));
  const operands = [
    { label: `${kind} input`, elementsPerUnit: perSample },
    { label: `${kind} output`, elementsPerUnit: perSample },
  ];
  return splitUnits(batch!, operands, context.limits, 'sample');
}

/** Returns the geometry of samples [start, start + count) and their window of x-shaped tensors. */
function samplesOf(kind: NormKind, x: Value, attrs: NormAttrs, piece: UnitRange) {
  const perSample = numElements(x.shape.slice(1));
  const shape = [piece.count, ...x.shape.slice(1)];
  const norm = { ...geometry(kind, x, attrs), inputShape: shape };
  const window = (operand: Operand) =>
    windowOf(operand, piece.start * perSample, piece.count * perSample);
  return { norm, window };
}

/** Returns the activation fused into a norm's apply kernel (fuse.ts) and the value it writes. */
function fusedOutput(node: Node, context: LowerContext): { activation: Epilogue; output: Value } {
  const fused = context.fusedActivation(node);
  if (!fused) return { activation: {}, output: node.outputs[0]! };
  const activation: Epilogue = { activation: fused.activation };
  if (fused.parameter !== undefined) activation.activationParameter = fused.parameter;
  return { activation, output: fused.node.outputs[0]! };
}

function lowerNorm(kind: NormKind) {
  return (node: Node, context: LowerContext): LoweredDispatch[] => {
    const attrs = node.attrs as NormAttrs;
    const x = node.inputs[0]!;
    const pieces = samplePieces(kind, x, attrs, context);
    if (
      pieces.length > 1 &&
      kind === 'batchNorm' &&
      batchStatistics(kind, attrs, context.training)
    ) {
      return lowerBatchNorm(node, context, pieces);
    }
    if (pieces.length > 1) return lowerNormPieces(kind, node, context, pieces);
    const norm = geometry(kind, x, attrs);
    const stats = statistics(context, kind, x, norm);
    const weight = attrs.affine ? value(node.inputs[1]!) : UNUSED;
    const bias = attrs.affine ? value(node.inputs[2]!) : UNUSED;
    const { activation, output } = fusedOutput(node, context);
    const apply = {
      plan: planNormApply(norm, context.limits, activation),
      operands: [value(x), stats, weight, bias, value(output)],
    };
    const running = kind === 'batchNorm' && (attrs as BatchNormAttrs).trackRunningStats;
    if (!running) {
      // Instance, group and layer norm, and batch norm without running statistics, always
      // normalise with the statistics of the batch.
      return [{ plan: planNormStats(norm, context.limits), operands: [value(x), stats] }, apply];
    }
    const first = attrs.affine ? 3 : 1;
    const runningStats = [value(node.inputs[first]!), value(node.inputs[first + 1]!)];
    const update = {
      plan: planBatchNormRunning(norm, context.training, context.limits),
      operands: [stats, ...runningStats],
    };
    if (!context.training) return [update, apply];
    // NOTE: num_batches_tracked is not incremented; it only matters with momentum None
    // (a cumulative average), which the configs do not offer.
    return [
      { plan: planNormStats(norm, context.limits), operands: [value(x), stats] },
      update,
      apply,
    ];
  };
}

/**
 * Lowers a norm as one dispatch per run of samples. With batch statistics, each run saves
 * statistics of its own for the gradient, keyed by its first sample. Eval-mode batch norm
 * shares the statistics computed from its running buffers.
 */
function lowerNormPieces(
  kind: NormKind,
  node: Node,
  context: LowerContext,
  pieces: UnitRange[],
): LoweredDispatch[] {
  const attrs = node.attrs as NormAttrs;
  const x = node.inputs[0]!;
  const weight = attrs.affine ? value(node.inputs[1]!) : UNUSED;
  const bias = attrs.affine ? value(node.inputs[2]!) : UNUSED;
  const dispatches: LoweredDispatch[] = [];
  let shared: Operand | undefined;
  if (!batchStatistics(kind, attrs, context.training)) {
    const norm = geometry(kind, x, attrs);
    shared = statistics(context, kind, x, norm);
    const first = attrs.affine ? 3 : 1;
    const runningStats = [value(node.inputs[first]!), value(node.inputs[first + 1]!)];
    const plan = planBatchNormRunning(norm, false, context.limits);
    dispatches.push({ plan, operands: [shared, ...runningStats] });
  }
  for (const piece of pieces) {
    const { norm, window } = samplesOf(kind, x, attrs, piece);
    let stats = shared;
    if (!stats) {
      stats = pieceStatistics(context, kind, x, norm, piece);
      const plan = planNormStats(norm, context.limits);
      dispatches.push({ plan, operands: [window(value(x)), stats] });
    }
    const { activation, output } = fusedOutput(node, context);
    const plan = planNormApply(norm, context.limits, activation);
    const y = window(value(output));
    dispatches.push({ plan, operands: [window(value(x)), stats, weight, bias, y] });
  }
  return dispatches;
}

function pieceStatistics(
  context: LowerContext,
  kind: NormKind,
  x: Value,
  norm: NormGeometry,
  piece: UnitRange,
): Operand {
  const elements = normStatsElements(norm, context.limits);
  return context.saved(`${kind}:${x.id}:${piece.start}`, elements);
}

function lowerNormGrad(kind: NormKind) {
  return (node: Node, context: LowerContext): LoweredDispatch[] => {
    const attrs = node.attrs as NormAttrs;
    const [dy, x, weightValue] = node.inputs;
    const pieces = samplePieces(kind, x!, attrs, context);
    if (pieces.length > 1 && kind === 'batchNorm') return lowerBatchNormGrad(node, context, pieces);
    if (pieces.length > 1) return lowerNormGradPieces(kind, node, context, pieces);
    const norm = geometry(kind, x!, attrs);
    const stats = statistics(context, kind, x!, norm);
    const weight = weightValue ? value(weightValue) : UNUSED;
    const sums = context.scratch(2 * (normStatsElements(norm, context.limits) / 3));
    // A batch norm's per-channel sums are its weight and bias gradients as well.
    const affineInSums = kind === 'batchNorm' && attrs.affine;
    const sumsOperands = [value(x!), value(dy!), stats, weight, sums];
    if (affineInSums) sumsOperands.push(value(node.outputs[1]!), value(node.outputs[2]!));
    const dispatches: LoweredDispatch[] = [
      {
        plan: planNormBackwardSums(norm, context.limits, affineInSums),
        operands: sumsOperands,
      },
      {
        plan: planNormBackward(norm, true, context.limits),
        operands: [value(x!), value(dy!), stats, weight, sums, value(node.outputs[0]!)],
      },
    ];
    if (attrs.affine && !affineInSums) {
      const [dweight, dbias] = [node.outputs[1]!, node.outputs[2]!];
      dispatches.push({
        plan: planNormAffineGrad(norm, context.limits),
        operands: [value(x!), value(dy!), stats, value(dweight), value(dbias)],
      });
    }
    return dispatches;
  };
}

/**
 * Lowers a norm's gradient as one set of dispatches per run of samples, the same runs as
 * its forward pass. The weight and bias gradients of each run go to scratch and are added
 * to the gradients in run order.
 */
function lowerNormGradPieces(
  kind: NormKind,
  node: Node,
  context: LowerContext,
  pieces: UnitRange[],
): LoweredDispatch[] {
  const attrs = node.attrs as NormAttrs;
  const [dy, x, weightValue] = node.inputs;
  const weight = weightValue ? value(weightValue) : UNUSED;
  const dispatches: LoweredDispatch[] = [];
  for (const piece of pieces) {
    const { norm, window } = samplesOf(kind, x!, attrs, piece);
    const stats = pieceStatistics(context, kind, x!, norm, piece);
    const sums = context.scratch(2 * (normStatsElements(norm, context.limits) / 3));
    const [xs, dys] = [window(value(x!)), window(value(dy!))];
    const dx = window(value(node.outputs[0]!));
    dispatches.push(
      {
        plan: planNormBackwardSums(norm, context.limits),
        operands: [xs, dys, stats, weight, sums],
      },
      {
        plan: planNormBackward(norm, true, context.limits),
        operands: [xs, dys, stats, weight, sums, dx],
      },
    );
    if (!attrs.affine) continue;
    const count = normAffineElements(norm, context.limits);
    const [dweight, dbias] = [context.scratch(count), context.scratch(count)];
    const plan = planNormAffineGrad(norm, context.limits);
    dispatches.push({ plan, operands: [xs, dys, stats, dweight, dbias] });
    const sum = planSplitSum(1, count, { accumulate: piece.start > 0 });
    dispatches.push(
      { plan: sum, operands: [dweight, value(node.outputs[1]!)] },
      { plan: sum, operands: [dbias, value(node.outputs[2]!)] },
    );
  }
  return dispatches;
}

/** Lowers a batch norm with batch statistics, split into runs of samples (split-norm.ts). */
function lowerBatchNorm(node: Node, context: LowerContext, runs: UnitRange[]) {
  const attrs = node.attrs as BatchNormAttrs;
  const x = node.inputs[0]!;
  const norm = geometry('batchNorm', x, attrs);
  const first = attrs.affine ? 3 : 1;
  const running: [Operand, Operand] | undefined = attrs.trackRunningStats
    ? [value(node.inputs[first]!), value(node.inputs[first + 1]!)]
    : undefined;
  const operands = {
    x,
    stats: statistics(context, 'batchNorm', x, norm),
    weight: attrs.affine ? value(node.inputs[1]!) : UNUSED,
    bias: attrs.affine ? value(node.inputs[2]!) : UNUSED,
    running,
  };
  const { activation, output } = fusedOutput(node, context);
  return lowerBatchNormRuns(context, norm, operands, output, runs, activation);
}

function lowerBatchNormGrad(node: Node, context: LowerContext, runs: UnitRange[]) {
  const attrs = node.attrs as BatchNormAttrs;
  const [dy, x, weight] = node.inputs;
  const norm = geometry('batchNorm', x!, attrs);
  const stats = statistics(context, 'batchNorm', x!, norm);
  const operands = { x: x!, stats, weight: weight ? value(weight) : UNUSED, bias: UNUSED };
  const gradients = {
    dy: dy!,
    dx: node.outputs[0]!,
    dweight: attrs.affine ? node.outputs[1] : undefined,
    dbias: attrs.affine ? node.outputs[2] : undefined,
  };
  return lowerBatchNormGradRuns(context, norm, operands, gradients, runs);
}

registerLowering('batchNorm', lowerNorm('batchNorm'));
registerLowering('instanceNorm', lowerNorm('instanceNorm'));
registerLowering('groupNorm', lowerNorm('groupNorm'));
registerLowering('layerNorm', lowerNorm('layerNorm'));
registerLowering('batchNormGrad', lowerNormGrad('batchNorm'));
registerLowering('instanceNormGrad', lowerNormGrad('instanceNorm'));
registerLowering('groupNormGrad', lowerNormGrad('groupNorm'));
registerLowering('layerNormGrad', lowerNormGrad('layerNorm'));
