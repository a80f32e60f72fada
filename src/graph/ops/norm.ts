// Normalisation layers and dropout. Train or eval behaviour is a run-time mode of the program,
// not an attribute: batchNorm uses batch statistics and updates its running buffers in train
// mode, and dropout is the identity in eval mode.

import { ShapeError } from '../errors.js';
import { formatShape, numElements, type Shape } from '../ir.js';
import { expectRank, expectShape, type OpDef } from './types.js';

export interface BatchNormAttrs {
  eps: number;
  /** Weight of the new batch statistic in the running average (PyTorch's momentum, 0.1). */
  momentum: number;
  /** Inputs include weight [C] and bias [C]. */
  affine: boolean;
  /** Inputs include running_mean [C], running_var [C] and num_batches_tracked []. */
  trackRunningStats: boolean;
}

export interface InstanceNormAttrs {
  eps: number;
  /** Inputs include weight [C] and bias [C]; PyTorch's InstanceNorm default is false. */
  affine: boolean;
}

export interface GroupNormAttrs {
  numGroups: number;
  eps: number;
  affine: boolean;
}

export interface LayerNormAttrs {
  /** The trailing axes that are normalised together. */
  normalizedShape: readonly number[];
  eps: number;
  /** Inputs include weight and bias of shape normalizedShape. */
  affine: boolean;
}

export interface DropoutAttrs {
  /** Probability of zeroing an element in train mode; kept elements are scaled by 1 / (1 - p). */
  p: number;
}

export interface NormOpAttrs {
  batchNorm: BatchNormAttrs;
  instanceNorm: InstanceNormAttrs;
  groupNorm: GroupNormAttrs;
  layerNorm: LayerNormAttrs;
  dropout: DropoutAttrs;
}

function expectCount(inputs: readonly Shape[], count: number, layout: string): void {
  if (inputs.length !== count) {
    throw new ShapeError(`expected ${count} inputs (${layout}) but got ${inputs.length}`);
  }
}

function checkEps(eps: number): void {
  if (!(eps > 0)) throw new ShapeError(`eps must be > 0, got ${eps}`);
}

function inferBatchNorm(inputs: readonly Shape[], attrs: BatchNormAttrs): Shape[] {
  const layout = ['x', ...(attrs.affine ? ['weight', 'bias'] : [])];
  if (attrs.trackRunningStats) layout.push('running_mean', 'running_var', 'num_batches_tracked');
  expectCount(inputs, layout.length, layout.join(', '));
  const x = inputs[0];
  expectRank(x, [2, 3, 4, 5], 'batchNorm input ([N, C, ...])');
  checkEps(attrs.eps);
  if (!(attrs.momentum >= 0 && attrs.momentum <= 1)) {
    throw new ShapeError(`momentum must be in [0, 1], got ${attrs.momentum}`);
  }
  layout.slice(1).forEach((name, index) => {
    expectShape(inputs[index + 1], name === 'num_batches_tracked' ? [] : [x[1]], name);
  });
  return [x];
}

function inferInstanceNorm(inputs: readonly Shape[], attrs: InstanceNormAttrs): Shape[] {
  expectCount(inputs, attrs.affine ? 3 : 1, attrs.affine ? 'x, weight, bias' : 'x');
  const x = inputs[0];
  expectRank(x, [3, 4, 5], 'instanceNorm input ([N, C, ...spatial])');
  checkEps(attrs.eps);
  for (const param of inputs.slice(1)) expectShape(param, [x[1]], 'weight and bias');
  return [x];
}

function inferGroupNorm(inputs: readonly Shape[], attrs: GroupNormAttrs): Shape[] {
  expectCount(inputs, attrs.affine ? 3 : 1, attrs.affine ? 'x, weight, bias' : 'x');
  const x = inputs[0];
  expectRank(x, [2, 3, 4, 5], 'groupNorm input ([N, C, ...])');
  checkEps(attrs.eps);
  if (!Number.isInteger(attrs.numGroups) || attrs.numGroups < 1 || x[1] % attrs.numGroups) {
    throw new ShapeError(
      `numGroups (${attrs.numGroups}) must be an integer >= 1 that divides the ${x[1]} channels`,
    );
  }
  for (const param of inputs.slice(1)) expectShape(param, [x[1]], 'weight and bias');
  return [x];
}

function inferLayerNorm(inputs: readonly Shape[], attrs: LayerNormAttrs): Shape[] {
  expectCount(inputs, attrs.affine ? 3 : 1, attrs.affine ? 'x, weight, bias' : 'x');
  const x = inputs[0];
  const trailing = x.slice(x.length - attrs.normalizedShape.length);
  const fits =
    attrs.normalizedShape.length >= 1 &&
    attrs.normalizedShape.length <= x.length &&
    trailing.every((size, axis) => size === attrs.normalizedShape[axis]);
  if (!fits) {
    throw new ShapeError(
      `normalizedShape ${formatShape(attrs.normalizedShape)} must equal the trailing axes of ` +
        `the input ${formatShape(x)}`,
    );
  }
  checkEps(attrs.eps);
  for (const param of inputs.slice(1)) {
    expectShape(param, attrs.normalizedShape, 'weight and bias');
  }
  return [x];
}

function inferDropout(inputs: readonly Shape[], attrs: DropoutAttrs): Shape[] {
  expectCount(inputs, 1, 'x');
  if (!(attrs.p >= 0 && attrs.p <= 1)) {
    throw new ShapeError(`dropout probability p must be in [0, 1], got ${attrs.p}`);
  }
  return [inputs[0]];
}

/**
 * Statistics (a sum and a sum of squares: 4 per element) and normalisation with the affine
 * transform folded into one multiply-add (2 per element).
 */
function normFlops(inputs: readonly Shape[]): number {
  return 6 * numElements(inputs[0]);
}

export const NORM_OPS: { [K in keyof NormOpAttrs]: OpDef<NormOpAttrs[K]> } = {
  batchNorm: { inferShape: inferBatchNorm, flops: normFlops },
  instanceNorm: { inferShape: inferInstanceNorm, flops: normFlops },
  groupNorm: { inferShape: inferGroupNorm, flops: normFlops },
  layerNorm: { inferShape: inferLayerNorm, flops: normFlops },
  dropout: { inferShape: inferDropout, flops: (inputs) => numElements(inputs[0]) },
};
