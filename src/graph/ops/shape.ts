// Ops that move data without arithmetic: reshape, permute, broadcastTo, concat, slice, pad.

import { ShapeError } from '../errors.js';
import { formatShape, numElements, type Shape } from '../ir.js';
import {
  expectAxis,
  expectInputCount,
  expectPadding,
  type AxisPadding,
  type OpDef,
} from './types.js';

export interface ReshapeAttrs {
  /** The full output shape, with no -1 (the layer resolves it). */
  shape: readonly number[];
}

export interface PermuteAttrs {
  /** Output axis i is input axis axes[i]. */
  axes: readonly number[];
}

export interface BroadcastToAttrs {
  /** Output shape; input axes of size 1 (or missing on the left) are repeated. */
  shape: readonly number[];
}

export interface ConcatAttrs {
  axis: number;
}

export interface SliceAttrs {
  /** Per axis: first index, end index (exclusive) and step, all explicit for every axis. */
  begin: readonly number[];
  end: readonly number[];
  step: readonly number[];
}

export interface PadAttrs {
  /** [before, after] for every axis of the input. */
  padding: readonly AxisPadding[];
  mode: 'constant' | 'reflect' | 'replicate' | 'circular';
  /** Fill value of 'constant' mode. */
  value: number;
}

export interface ShapeOpAttrs {
  reshape: ReshapeAttrs;
  permute: PermuteAttrs;
  broadcastTo: BroadcastToAttrs;
  concat: ConcatAttrs;
  slice: SliceAttrs;
  pad: PadAttrs;
}

function inferReshape(inputs: readonly Shape[], attrs: ReshapeAttrs): Shape[] {
  expectInputCount(inputs, 1, 'x');
  if (attrs.shape.some((size) => !Number.isInteger(size) || size < 1)) {
    throw new ShapeError(`reshape target ${formatShape(attrs.shape)} must hold integers >= 1`);
  }
  if (numElements(attrs.shape) !== numElements(inputs[0])) {
    throw new ShapeError(
      `cannot reshape ${numElements(inputs[0])} elements to ${formatShape(attrs.shape)} ` +
        `(${numElements(attrs.shape)} elements)`,
    );
  }
  return [[...attrs.shape]];
}

function inferPermute(inputs: readonly Shape[], attrs: PermuteAttrs): Shape[] {
  expectInputCount(inputs, 1, 'x');
  const x = inputs[0];
  const sorted = [...attrs.axes].sort((a, b) => a - b);
  if (sorted.length !== x.length || sorted.some((axis, i) => axis !== i)) {
    throw new ShapeError(
      `permute axes [${attrs.axes.join(', ')}] must be a permutation of 0..${x.length - 1}`,
    );
  }
  return [attrs.axes.map((axis) => x[axis])];
}

function inferBroadcastTo(inputs: readonly Shape[], attrs: BroadcastToAttrs): Shape[] {
  expectInputCount(inputs, 1, 'x');
  const x = inputs[0];
  const offset = attrs.shape.length - x.length;
  const fits =
    offset >= 0 && x.every((size, axis) => size === 1 || size === attrs.shape[axis + offset]);
  if (!fits) {
    throw new ShapeError(`cannot broadcast ${formatShape(x)} to ${formatShape(attrs.shape)}`);
  }
  return [[...attrs.shape]];
}

function inferConcat(inputs: readonly Shape[], attrs: ConcatAttrs): Shape[] {
  if (inputs.length < 1) throw new ShapeError('concat needs at least one input');
  const first = inputs[0];
  expectAxis(attrs.axis, first.length, 'concat axis');
  let total = 0;
  for (const shape of inputs) {
    const same =
      shape.length === first.length &&
      shape.every((size, axis) => axis === attrs.axis || size === first[axis]);
    if (!same) {
      throw new ShapeError(
        `concat along axis ${attrs.axis} needs equal sizes on every other axis, got ` +
          `${inputs.map(formatShape).join(' and ')}`,
      );
    }
    total += shape[attrs.axis];
  }
  return [first.map((size, axis) => (axis === attrs.axis ? total : size))];
}

function inferSlice(inputs: readonly Shape[], attrs: SliceAttrs): Shape[] {
  expectInputCount(inputs, 1, 'x');
  const x = inputs[0];
  const ranks = [attrs.begin.length, attrs.end.length, attrs.step.length];
  if (ranks.some((rank) => rank !== x.length)) {
    throw new ShapeError(`slice needs begin, end and step for each of the ${x.length} axes`);
  }
  return [
    x.map((size, axis) => {
      const begin = attrs.begin[axis];
      const end = attrs.end[axis];
      const step = attrs.step[axis];
      if (!(begin >= 0 && begin < end && end <= size && step >= 1)) {
        throw new ShapeError(
          `slice on axis ${axis} needs 0 <= begin < end <= ${size} and step >= 1, got ` +
            `begin ${begin}, end ${end}, step ${step}`,
        );
      }
      return Math.ceil((end - begin) / step);
    }),
  ];
}

function inferPad(inputs: readonly Shape[], attrs: PadAttrs): Shape[] {
  expectInputCount(inputs, 1, 'x');
  const x = inputs[0];
  expectPadding(attrs.padding, x.length, 'pad padding');
  return [
    x.map((size, axis) => {
      const [before, after] = attrs.padding[axis];
      if (attrs.mode === 'reflect' && (before >= size || after >= size)) {
        throw new ShapeError(
          `reflect padding [${before}, ${after}] on axis ${axis} must be smaller than its ` +
            `size ${size}`,
        );
      }
      if (attrs.mode === 'circular' && (before > size || after > size)) {
        throw new ShapeError(
          `circular padding [${before}, ${after}] on axis ${axis} must be at most its size ${size}`,
        );
      }
      return size + before + after;
    }),
  ];
}

const noFlops = () => 0;

export const SHAPE_OPS: { [K in keyof ShapeOpAttrs]: OpDef<ShapeOpAttrs[K]> } = {
  reshape: { inferShape: inferReshape, flops: noFlops },
  permute: { inferShape: inferPermute, flops: noFlops },
  broadcastTo: { inferShape: inferBroadcastTo, flops: noFlops },
  concat: { inferShape: inferConcat, flops: noFlops },
  slice: { inferShape: inferSlice, flops: noFlops },
  pad: { inferShape: inferPad, flops: noFlops },
};
