// Lowerings of batch, instance, group and layer normalisation and their gradients. The
// forward saves its statistics ([mean, invstd, variance] per group) for the gradient, keyed by
// the input value, so the backward pass reads them instead of recomputing.

import type { Value } from '../graph/ir.js';
import type { Node } from '../graph/ir.js';
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
} from './lower.js';
import {
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

function lowerNorm(kind: NormKind) {
  return (node: Node, context: LowerContext): LoweredDispatch[] => {
    const attrs = node.attrs as NormAttrs;
    const x = node.inputs[0]!;
    const norm = geometry(kind, x, attrs);
    const stats = statistics(context, kind, x, norm);
    const weight = attrs.affine ? value(node.inputs[1]!) : UNUSED;
    const bias = attrs.affine ? value(node.inputs[2]!) : UNUSED;
    const apply = {
      plan: planNormApply(norm, context.limits),
      operands: [value(x), stats, weight, bias, value(node.outputs[0]!)],
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

function lowerNormGrad(kind: NormKind) {
  return (node: Node, context: LowerContext): LoweredDispatch[] => {
    const attrs = node.attrs as NormAttrs;
    const [dy, x, weightValue] = node.inputs;
    const norm = geometry(kind, x!, attrs);
    const stats = statistics(context, kind, x!, norm);
    const weight = weightValue ? value(weightValue) : UNUSED;
    const sums = context.scratch(2 * (normStatsElements(norm, context.limits) / 3));
    const dispatches: LoweredDispatch[] = [
      {
        plan: planNormBackwardSums(norm, context.limits),
        operands: [value(x!), value(dy!), stats, weight, sums],
      },
      {
        plan: planNormBackward(norm, true, context.limits),
        operands: [value(x!), value(dy!), stats, weight, sums, value(node.outputs[0]!)],
      },
    ];
    if (attrs.affine) {
      const [dweight, dbias] = [node.outputs[1]!, node.outputs[2]!];
      dispatches.push({
        plan: planNormAffineGrad(norm, context.limits),
        operands: [value(x!), value(dy!), stats, value(dweight), value(dbias)],
      });
    }
    return dispatches;
  };
}

registerLowering('batchNorm', lowerNorm('batchNorm'));
registerLowering('instanceNorm', lowerNorm('instanceNorm'));
registerLowering('groupNorm', lowerNorm('groupNorm'));
registerLowering('layerNorm', lowerNorm('layerNorm'));
registerLowering('batchNormGrad', lowerNormGrad('batchNorm'));
registerLowering('instanceNormGrad', lowerNormGrad('instanceNorm'));
registerLowering('groupNormGrad', lowerNormGrad('groupNorm'));
registerLowering('layerNormGrad', lowerNormGrad('layerNorm'));
