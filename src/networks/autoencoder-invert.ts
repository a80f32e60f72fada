// ClinicaDL's AutoEncoder derives its decoder from the encoder. Layers come in reverse order, and
// convolutions become transposed convolutions whose padding and output padding give back each
// layer's input size. Pooling becomes upsampling to the size before the pooling, or a transposed
// convolution when unpoolingMode is 'convtranspose'.

import { UserError } from '../errors.js';
import type { ConvEncoderArgs, EncoderTrace } from './conv-encoder.js';
import type { ConvDecoderArgs } from './conv-decoder.js';
import type { Activation, PoolingLayer, UnpoolingLayer } from './config.js';

export const UNPOOLING_MODES = [
  'nearest',
  'linear',
  'bilinear',
  'bicubic',
  'trilinear',
  'convtranspose',
] as const;
export type UnpoolingMode = (typeof UNPOOLING_MODES)[number];

const MODE_DIMS: Partial<Record<UnpoolingMode, number>> = {
  linear: 1,
  bilinear: 2,
  bicubic: 2,
  trilinear: 3,
};

export function checkUnpoolingMode(mode: UnpoolingMode, spatialDims: number): void {
  const required = MODE_DIMS[mode];
  if (required !== undefined && required !== spatialDims) {
    throw new UserError(
      `unpoolingMode '${mode}' works with ${required}D images only, got ${spatialDims}D; use ` +
        `'nearest' or 'convtranspose'`,
    );
  }
  if (mode === 'bicubic') {
    // NOTE: the upsample op has no bicubic kernel yet, so this ClinicaDL mode is rejected.
    throw new UserError("unpoolingMode 'bicubic' is not supported; use 'bilinear' or 'nearest'");
  }
}

const convOut = (size: number, k: number, s: number, p: number, d: number) =>
  Math.trunc((size + 2 * p - d * (k - 1) - 1) / s) + 1;
const convTransposeOut = (size: number, k: number, s: number, p: number, d: number) =>
  (size - 1) * s - 2 * p + d * (k - 1) + 1;

interface Window {
  kernelSize: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
}

/**
 * Padding and output padding of a transposed convolution with `window` that maps `layerOut`
 * back to `sizeBefore`. Where the output padding would be negative, ClinicaDL adds
 * max(|outputPadding| // 2, 1) padding and recomputes.
 */
export function convTransposePaddings(sizeBefore: number[], layerOut: number[], window: Window) {
  const { kernelSize: k, stride: s, dilation: d } = window;
  const padding = [...window.padding];
  const outputPadding = (pads: number[]) =>
    sizeBefore.map((size, i) => size - convTransposeOut(layerOut[i], k[i], s[i], pads[i], d[i]));
  const first = outputPadding(padding);
  first.forEach((extra, i) => {
    if (extra < 0) padding[i] += Math.max(Math.floor(Math.abs(extra) / 2), 1);
  });
  return { padding, outputPadding: outputPadding(padding) };
}

function perAxis(value: unknown, spatialDims: number, fallback: number): number[] {
  if (value === undefined || value === null) return new Array<number>(spatialDims).fill(fallback);
  if (typeof value === 'number') return new Array<number>(spatialDims).fill(value);
  return [...(value as number[])];
}

/** Output size of a pooling layer as ClinicaDL computes it. */
function poolOut(pooling: PoolingLayer, size: number[], window: Window): number[] {
  const [mode, args] = pooling;
  if (mode === 'adaptivemax' || mode === 'adaptiveavg') {
    return perAxis(args.outputSize, size.length, 1);
  }
  const { kernelSize: k, stride: s, padding: p, dilation: d } = window;
  return size.map((extent, i) => {
    const exact = (extent + 2 * p[i] - d[i] * (k[i] - 1) - 1) / s[i] + 1;
    if (!args.ceilMode) return Math.trunc(exact);
    let out = Math.ceil(exact);
    if (mode === 'avg' && (out - 1) * s[i] >= extent + p[i]) out -= 1;
    return out;
  });
}

function poolWindow(pooling: PoolingLayer, size: number[]): Window {
  const [mode, args] = pooling;
  const dims = size.length;
  if (mode === 'adaptivemax' || mode === 'adaptiveavg') {
    const out = perAxis(args.outputSize, dims, 1);
    const stride = size.map((extent, i) => Math.floor(extent / out[i]));
    const kernelSize = size.map((extent, i) => extent - (out[i] - 1) * stride[i]);
    return {
      kernelSize,
      stride,
      padding: new Array(dims).fill(0),
      dilation: new Array(dims).fill(1),
    };
  }
  const kernelSize = perAxis(args.kernelSize, dims, 1);
  return {
    kernelSize,
    stride:
      args.stride === undefined || args.stride === null
        ? kernelSize
        : perAxis(args.stride, dims, 1),
    padding: perAxis(args.padding, dims, 0),
    dilation: mode === 'max' ? perAxis(args.dilation, dims, 1) : new Array(dims).fill(1),
  };
}

function invertPooling(
  pooling: PoolingLayer,
  sizeBefore: number[],
  mode: UnpoolingMode,
): UnpoolingLayer {
  if (mode !== 'convtranspose') return ['upsample', { size: sizeBefore, mode }];
  const window = poolWindow(pooling, sizeBefore);
  const { padding, outputPadding } = convTransposePaddings(
    sizeBefore,
    poolOut(pooling, sizeBefore, window),
    window,
  );
  const args: Record<string, number[]> = {
    kernelSize: window.kernelSize,
    stride: window.stride,
    padding,
    outputPadding,
  };
  if (pooling[0] === 'max' && pooling[1].dilation !== undefined) args.dilation = window.dilation;
  return ['convtranspose', args];
}

/** Builds the decoder's convArgs from the encoder's arguments and what building it recorded. */
export function invertConvArgs(
  encoder: ConvEncoderArgs,
  trace: EncoderTrace,
  outChannels: number,
  outputAct: Activation | null,
  unpoolingMode: UnpoolingMode,
): ConvDecoderArgs {
  const layers = encoder.channels.length;
  const convChildren = trace.children.filter((child) => child.name.startsWith('layer'));
  const paddings = convChildren.map((child, i) => {
    const window = {
      kernelSize: trace.kernelSize[i],
      stride: trace.stride[i],
      padding: trace.padding[i],
      dilation: trace.dilation[i],
    };
    const out = child.sizeBefore.map((size, axis) =>
      convOut(
        size,
        window.kernelSize[axis],
        window.stride[axis],
        window.padding[axis],
        window.dilation[axis],
      ),
    );
    return convTransposePaddings(child.sizeBefore, out, window);
  });
  const poolSizes = trace.children.filter((child) => !child.name.startsWith('layer'));
  const unpooling = trace.pooling
    .map((pooling, i) => invertPooling(pooling, poolSizes[i].sizeBefore, unpoolingMode))
    .reverse();
  return {
    channels: layers === 0 ? [] : [...encoder.channels.slice(0, -1).reverse(), outChannels],
    kernelSize: [...trace.kernelSize].reverse(),
    stride: [...trace.stride].reverse(),
    dilation: [...trace.dilation].reverse(),
    padding: paddings.map((p) => p.padding).reverse(),
    outputPadding: paddings.map((p) => p.outputPadding).reverse(),
    unpooling: unpooling.length > 0 ? unpooling : null,
    unpoolingIndices: trace.poolingIndices.map((index) => layers - index - 2),
    act: encoder.act,
    outputAct,
    norm: encoder.norm,
    dropout: encoder.dropout,
    bias: encoder.bias,
    adnOrdering: encoder.adnOrdering,
  };
}
