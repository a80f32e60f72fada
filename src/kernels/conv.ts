// Convolution geometry shared by the forward, input-gradient and weight-gradient planners:
// validation, output sizes, 1D/2D lifted to 3D with unit axes in front, and the placeholders
// that every convolution operand file reads.

import { UserError } from '../errors.js';
import { wgslNumber, type TemplateValue } from './template.js';

/** Padding of one spatial axis: elements added before the first and after the last. */
export type AxisPadding = readonly [number, number];

/**
 * A convolution with PyTorch's layouts: input [batch, inChannels, ...inputSize], weight
 * [outChannels, inChannels / groups, ...kernelSize], output [batch, outChannels, ...].
 * inputSize has 1 to 3 spatial axes; every per-axis field has one entry per axis.
 */
export interface ConvGeometry {
  batch: number;
  inChannels: number;
  outChannels: number;
  inputSize: readonly number[];
  kernelSize: readonly number[];
  /** Default 1 on every axis. */
  stride?: readonly number[];
  /**
   * Default [0, 0] on every axis. The padding after may be negative: it then crops the end of
   * the output range, as transposeAsConv needs for outputPadding.
   */
  padding?: readonly AxisPadding[];
  /** Default 1 on every axis. */
  dilation?: readonly number[];
  /** Default 1. */
  groups?: number;
  /**
   * First row of the weight and bias that this convolution's output channels read, for a
   * dispatch that computes one group of channels of a larger layer. Default 0.
   */
  outChannelBase?: number;
}

/** A convolution with every field resolved and lifted to three spatial axes [D, H, W]. */
export interface Conv3d {
  spatialDims: number;
  batch: number;
  inChannels: number;
  outChannels: number;
  groups: number;
  outChannelBase: number;
  input: number[];
  kernel: number[];
  stride: number[];
  padBefore: number[];
  padAfter: number[];
  dilation: number[];
  output: number[];
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new UserError(`Convolution ${name} must be an integer >= ${min}, got ${value}.`);
  }
}

function perAxis(name: string, values: readonly number[], axes: number, min: number): number[] {
  if (values.length !== axes) {
    throw new UserError(
      `Convolution ${name} has ${values.length} entries [${values.join(', ')}] for ${axes} ` +
        'spatial axes; give one entry per axis.',
    );
  }
  values.forEach((value) => checkInteger(name, value, min));
  return [...values];
}

/** Lifts per-axis values to [D, H, W] by putting `fill` on the missing leading axes. */
function lift(values: readonly number[], fill: number): number[] {
  return [...new Array<number>(3 - values.length).fill(fill), ...values];
}

/** Validates `geometry` and resolves it to three spatial axes with the output size. */
export function resolveConv(geometry: ConvGeometry): Conv3d {
  const axes = geometry.inputSize.length;
  if (axes < 1 || axes > 3) {
    throw new UserError(
      `Convolution inputSize must have 1 to 3 spatial axes, got [${geometry.inputSize.join(', ')}].`,
    );
  }
  checkInteger('batch', geometry.batch, 1);
  checkInteger('inChannels', geometry.inChannels, 1);
  checkInteger('outChannels', geometry.outChannels, 1);
  const groups = geometry.groups ?? 1;
  checkInteger('groups', groups, 1);
  const outChannelBase = geometry.outChannelBase ?? 0;
  checkInteger('outChannelBase', outChannelBase, 0);
  if (geometry.inChannels % groups !== 0 || geometry.outChannels % groups !== 0) {
    throw new UserError(
      `Convolution inChannels (${geometry.inChannels}) and outChannels ` +
        `(${geometry.outChannels}) must both be divisible by groups (${groups}).`,
    );
  }
  const input = perAxis('inputSize', geometry.inputSize, axes, 1);
  const kernel = perAxis('kernelSize', geometry.kernelSize, axes, 1);
  const stride = perAxis('stride', geometry.stride ?? input.map(() => 1), axes, 1);
  const dilation = perAxis('dilation', geometry.dilation ?? input.map(() => 1), axes, 1);
  const padding = geometry.padding ?? input.map(() => [0, 0] as const);
  const padBefore = perAxis(
    'padding (before)',
    padding.map((pair) => pair[0]),
    axes,
    0,
  );
  const padAfter = perAxis(
    'padding (after)',
    padding.map((pair) => pair[1]),
    axes,
    Number.MIN_SAFE_INTEGER,
  );
  const output = input.map((size, axis) => {
    const span = dilation[axis]! * (kernel[axis]! - 1) + 1;
    const padded = size + padBefore[axis]! + padAfter[axis]!;
    const out = Math.floor((padded - span) / stride[axis]!) + 1;
    if (padded < span) {
      throw new UserError(
        `Convolution input size ${size} on spatial axis ${axis} with padding ` +
          `[${padBefore[axis]}, ${padAfter[axis]}] is smaller than the dilated kernel (${span}); ` +
          'use a larger input, more padding or a smaller kernel.',
      );
    }
    return out;
  });
  return {
    spatialDims: axes,
    batch: geometry.batch,
    inChannels: geometry.inChannels,
    outChannels: geometry.outChannels,
    groups,
    outChannelBase,
    input: lift(input, 1),
    kernel: lift(kernel, 1),
    stride: lift(stride, 1),
    padBefore: lift(padBefore, 0),
    padAfter: lift(padAfter, 0),
    dilation: lift(dilation, 1),
    output: lift(output, 1),
  };
}

/** Output spatial size of `geometry`, with its own number of axes. */
export function convOutputSize(geometry: ConvGeometry): number[] {
  return resolveConv(geometry).output.slice(3 - geometry.inputSize.length);
}

export function volume(sizes: readonly number[]): number {
  return sizes.reduce((product, size) => product * size, 1);
}

/** Element counts of the input, weight and output tensors. */
export function convTensorSizes(conv: Conv3d): { input: number; weight: number; output: number } {
  const { batch, inChannels, outChannels, groups } = conv;
  return {
    input: batch * inChannels * volume(conv.input),
    weight: outChannels * (inChannels / groups) * volume(conv.kernel),
    output: batch * outChannels * volume(conv.output),
  };
}

/** Multiply-adds of the forward pass, times 2 (the same count for each gradient). */
export function convFlops(conv: Conv3d): number {
  const sizes = convTensorSizes(conv);
  return 2 * sizes.output * (conv.inChannels / conv.groups) * volume(conv.kernel);
}

/** The placeholders that the convolution operand files share. */
export function convConstants(conv: Conv3d): Record<string, TemplateValue> {
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const i32 = (value: number) => wgslNumber(value, 'i32');
  const constants: Record<string, TemplateValue> = {
    IN_CHANNELS: u32(conv.inChannels),
    OUT_CHANNELS: u32(conv.outChannels),
    GROUP_IN: u32(conv.inChannels / conv.groups),
    GROUP_OUT: u32(conv.outChannels / conv.groups),
    OUT_CHANNEL_BASE: u32(conv.outChannelBase),
  };
  ['D', 'H', 'W'].forEach((axis, i) => {
    constants[`IN_${axis}`] = u32(conv.input[i]!);
    constants[`OUT_${axis}`] = u32(conv.output[i]!);
    constants[`KERNEL_${axis}`] = u32(conv.kernel[i]!);
    constants[`STRIDE_${axis}`] = u32(conv.stride[i]!);
    constants[`DILATION_${axis}`] = u32(conv.dilation[i]!);
    constants[`PAD_${axis}`] = i32(conv.padBefore[i]!);
  });
  return constants;
}
