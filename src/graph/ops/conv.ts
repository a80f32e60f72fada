// Convolution and transposed convolution for 1, 2 or 3 spatial axes (taken from the input rank).
// Weights are in PyTorch layout: conv [outChannels, inChannels / groups, ...kernelSize],
// convTranspose [inChannels, outChannels / groups, ...kernelSize]; an optional bias is
// [outChannels].

import { ShapeError } from '../errors.js';
import { formatShape, numElements, type Shape } from '../ir.js';
import {
  checkOutputSize,
  expectPadding,
  expectPerAxis,
  expectRank,
  expectShape,
  type AxisPadding,
  type OpDef,
} from './types.js';

export interface ConvAttrs {
  stride: readonly number[];
  /** Zero padding per spatial axis; 'same' is resolved to pairs when the layer is built. */
  padding: readonly AxisPadding[];
  dilation: readonly number[];
  groups: number;
}

export interface ConvTransposeAttrs extends ConvAttrs {
  /** Extra size added after the last element of each spatial axis; < max(stride, dilation). */
  outputPadding: readonly number[];
}

export interface ConvOpAttrs {
  conv: ConvAttrs;
  convTranspose: ConvTransposeAttrs;
}

function checkCommon(inputs: readonly Shape[], attrs: ConvAttrs, what: string): number {
  if (inputs.length !== 2 && inputs.length !== 3) {
    throw new ShapeError(`${what} takes an input, a weight and an optional bias`);
  }
  const [x, weight] = inputs;
  expectRank(x, [3, 4, 5], `${what} input ([N, C, ...spatial] with 1 to 3 spatial axes)`);
  const spatialDims = x.length - 2;
  expectRank(weight, [x.length], `${what} weight`);
  expectPerAxis(attrs.stride, spatialDims, 1, 'stride');
  expectPerAxis(attrs.dilation, spatialDims, 1, 'dilation');
  expectPadding(attrs.padding, spatialDims, 'padding');
  if (!Number.isInteger(attrs.groups) || attrs.groups < 1) {
    throw new ShapeError(`groups must be an integer >= 1, got ${attrs.groups}`);
  }
  return spatialDims;
}

function checkGroups(inChannels: number, outChannels: number, groups: number): void {
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new ShapeError(
      `inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by ` +
        `groups (${groups})`,
    );
  }
}

function checkBias(inputs: readonly Shape[], outChannels: number): void {
  if (inputs.length === 3) expectShape(inputs[2], [outChannels], 'bias');
}

function inferConv(inputs: readonly Shape[], attrs: ConvAttrs): Shape[] {
  const spatialDims = checkCommon(inputs, attrs, 'conv');
  const [x, weight] = inputs;
  const [batch, inChannels] = x;
  const outChannels = weight[0];
  checkGroups(inChannels, outChannels, attrs.groups);
  if (weight[1] * attrs.groups !== inChannels) {
    throw new ShapeError(
      `weight ${formatShape(weight)} expects ${weight[1] * attrs.groups} input channels ` +
        `(weight[1] * groups) but the input has ${inChannels}`,
    );
  }
  checkBias(inputs, outChannels);
  const spatial: number[] = [];
  for (let axis = 0; axis < spatialDims; axis++) {
    const [before, after] = attrs.padding[axis];
    const span = attrs.dilation[axis] * (weight[axis + 2] - 1) + 1;
    const padded = x[axis + 2] + before + after;
    const size = Math.floor((padded - span) / attrs.stride[axis]) + 1;
    spatial.push(checkOutputSize(padded < span ? 0 : size, axis, 'conv'));
  }
  return [[batch, outChannels, ...spatial]];
}

function inferConvTranspose(inputs: readonly Shape[], attrs: ConvTransposeAttrs): Shape[] {
  const spatialDims = checkCommon(inputs, attrs, 'convTranspose');
  expectPerAxis(attrs.outputPadding, spatialDims, 0, 'outputPadding');
  const [x, weight] = inputs;
  const [batch, inChannels] = x;
  if (weight[0] !== inChannels) {
    throw new ShapeError(
      `weight ${formatShape(weight)} expects ${weight[0]} input channels (weight[0]) but the ` +
        `input has ${inChannels}`,
    );
  }
  const outChannels = weight[1] * attrs.groups;
  checkGroups(inChannels, outChannels, attrs.groups);
  checkBias(inputs, outChannels);
  const spatial: number[] = [];
  for (let axis = 0; axis < spatialDims; axis++) {
    const stride = attrs.stride[axis];
    const dilation = attrs.dilation[axis];
    const outputPadding = attrs.outputPadding[axis];
    if (outputPadding >= Math.max(stride, dilation)) {
      throw new ShapeError(
        `outputPadding ${outputPadding} on spatial axis ${axis} must be smaller than stride ` +
          `(${stride}) or dilation (${dilation})`,
      );
    }
    const [before, after] = attrs.padding[axis];
    const size =
      (x[axis + 2] - 1) * stride -
      before -
      after +
      dilation * (weight[axis + 2] - 1) +
      outputPadding +
      1;
    spatial.push(checkOutputSize(size, axis, 'convTranspose'));
  }
  return [[batch, outChannels, ...spatial]];
}

/** Counts a multiply-add per weight element and output position, plus one add per biased output. */
function convFlops(inputs: readonly Shape[], outputs: readonly Shape[]): number {
  const [, weight] = inputs;
  const perOutput = numElements(weight.slice(1));
  const biasFlops = inputs.length === 3 ? numElements(outputs[0]) : 0;
  return 2 * perOutput * numElements(outputs[0]) + biasFlops;
}

/** Counts a multiply-add per input element, kernel element and output channel of its group. */
function convTransposeFlops(inputs: readonly Shape[], outputs: readonly Shape[]): number {
  const [x, weight] = inputs;
  const perInput = numElements(weight.slice(1));
  const biasFlops = inputs.length === 3 ? numElements(outputs[0]) : 0;
  return 2 * perInput * numElements(x) + biasFlops;
}

export const CONV_OPS: { [K in keyof ConvOpAttrs]: OpDef<ConvOpAttrs[K]> } = {
  conv: { inferShape: inferConv, flops: convFlops },
  convTranspose: { inferShape: inferConvTranspose, flops: convTransposeFlops },
};
