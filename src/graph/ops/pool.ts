// Pooling and upsampling over the spatial axes of [N, C, ...spatial] (1 to 3 spatial axes).

import { ShapeError } from '../errors.js';
import { numElements, type Shape } from '../ir.js';
import {
  checkOutputSize,
  expectInputCount,
  expectPadding,
  expectPerAxis,
  expectRank,
  type AxisPadding,
  type OpDef,
} from './types.js';

export interface PoolAttrs {
  kernelSize: readonly number[];
  stride: readonly number[];
  /** Implicit padding per spatial axis, at most half the kernel size (PyTorch's rule). */
  padding: readonly AxisPadding[];
  /** Use ceil instead of floor for the output size; a window must still start in the input. */
  ceilMode: boolean;
}

export interface MaxPoolAttrs extends PoolAttrs {
  dilation: readonly number[];
}

export interface AvgPoolAttrs extends PoolAttrs {
  /** Divide by the whole window including padded zeros (PyTorch's default true). */
  countIncludePad: boolean;
}

export interface AdaptivePoolAttrs {
  outputSize: readonly number[];
}

export interface UpsampleAttrs {
  /** 'linear' is linear, bilinear or trilinear for 1, 2 or 3 spatial axes. */
  mode: 'nearest' | 'linear';
  /** Output spatial size, always resolved. */
  size: readonly number[];
  /**
   * Scale factors when the layer was given them: PyTorch then maps output to input coordinates
   * with 1 / scale instead of inputSize / outputSize. Null when the size was given.
   */
  scale: readonly number[] | null;
  /** Align the corner pixels of input and output (linear mode only). */
  alignCorners: boolean;
}

export interface PoolOpAttrs {
  maxPool: MaxPoolAttrs;
  avgPool: AvgPoolAttrs;
  adaptiveAvgPool: AdaptivePoolAttrs;
  adaptiveMaxPool: AdaptivePoolAttrs;
  upsample: UpsampleAttrs;
}

function spatialInput(inputs: readonly Shape[], what: string): Shape {
  expectInputCount(inputs, 1, 'the input');
  expectRank(inputs[0], [3, 4, 5], `${what} input ([N, C, ...spatial] with 1 to 3 spatial axes)`);
  return inputs[0];
}

function poolSize(
  size: number,
  attrs: PoolAttrs,
  dilation: number,
  axis: number,
  what: string,
): number {
  const kernel = attrs.kernelSize[axis];
  const stride = attrs.stride[axis];
  const [before, after] = attrs.padding[axis];
  if (before > kernel / 2 || after > kernel / 2) {
    throw new ShapeError(
      `${what} padding [${before}, ${after}] on spatial axis ${axis} must be at most half the ` +
        `kernel size (${kernel})`,
    );
  }
  const span = dilation * (kernel - 1) + 1;
  const room = size + before + after - span;
  if (room < 0) return checkOutputSize(0, axis, what);
  let count = (attrs.ceilMode ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  // With ceilMode, the last window must start inside the input or the left padding.
  if (attrs.ceilMode && (count - 1) * stride >= size + before) count -= 1;
  return checkOutputSize(count, axis, what);
}

function inferPool(
  inputs: readonly Shape[],
  attrs: PoolAttrs,
  dilation: readonly number[],
  what: string,
) {
  const x = spatialInput(inputs, what);
  const spatialDims = x.length - 2;
  expectPerAxis(attrs.kernelSize, spatialDims, 1, 'kernelSize');
  expectPerAxis(attrs.stride, spatialDims, 1, 'stride');
  expectPerAxis(dilation, spatialDims, 1, 'dilation');
  expectPadding(attrs.padding, spatialDims, 'padding');
  const spatial = x.slice(2).map((size, axis) => poolSize(size, attrs, dilation[axis], axis, what));
  return [[x[0], x[1], ...spatial]];
}

function inferAdaptive(inputs: readonly Shape[], attrs: AdaptivePoolAttrs): Shape[] {
  const x = spatialInput(inputs, 'adaptive pooling');
  expectPerAxis(attrs.outputSize, x.length - 2, 1, 'outputSize');
  return [[x[0], x[1], ...attrs.outputSize]];
}

function inferUpsample(inputs: readonly Shape[], attrs: UpsampleAttrs): Shape[] {
  const x = spatialInput(inputs, 'upsample');
  const spatialDims = x.length - 2;
  expectPerAxis(attrs.size, spatialDims, 1, 'size');
  if (attrs.alignCorners && attrs.mode !== 'linear') {
    throw new ShapeError(`alignCorners applies to mode 'linear' only, got mode '${attrs.mode}'`);
  }
  if (attrs.scale !== null) {
    if (attrs.scale.length !== spatialDims || attrs.scale.some((s) => !(s > 0))) {
      throw new ShapeError(
        `scale needs one positive factor per spatial axis (${spatialDims}), got ` +
          `[${attrs.scale.join(', ')}]`,
      );
    }
    attrs.scale.forEach((factor, axis) => {
      const expected = Math.floor(x[axis + 2] * factor);
      if (attrs.size[axis] !== expected) {
        throw new ShapeError(
          `size ${attrs.size[axis]} on spatial axis ${axis} does not match floor(` +
            `${x[axis + 2]} * ${factor}) = ${expected}`,
        );
      }
    });
  }
  return [[x[0], x[1], ...attrs.size]];
}

/** Counts one comparison or add per window element and output. */
function windowFlops(_inputs: readonly Shape[], outputs: readonly Shape[], attrs: PoolAttrs) {
  return numElements(attrs.kernelSize) * numElements(outputs[0]);
}

/** Counts one read per input element, exact when the input divides evenly into windows. */
function adaptiveFlops(inputs: readonly Shape[]): number {
  return numElements(inputs[0]);
}

/** Nearest copies; linear blends 2^spatialDims neighbours with a multiply-add each. */
function upsampleFlops(inputs: readonly Shape[], outputs: readonly Shape[], attrs: UpsampleAttrs) {
  if (attrs.mode === 'nearest') return 0;
  return 2 * 2 ** (inputs[0].length - 2) * numElements(outputs[0]);
}

export const POOL_OPS: { [K in keyof PoolOpAttrs]: OpDef<PoolOpAttrs[K]> } = {
  maxPool: {
    inferShape: (inputs, attrs) => inferPool(inputs, attrs, attrs.dilation, 'maxPool'),
    flops: windowFlops,
  },
  avgPool: {
    inferShape: (inputs, attrs) =>
      inferPool(
        inputs,
        attrs,
        attrs.kernelSize.map(() => 1),
        'avgPool',
      ),
    flops: windowFlops,
  },
  adaptiveAvgPool: { inferShape: inferAdaptive, flops: adaptiveFlops },
  adaptiveMaxPool: { inferShape: inferAdaptive, flops: adaptiveFlops },
  upsample: { inferShape: inferUpsample, flops: upsampleFlops },
};
