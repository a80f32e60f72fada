// Float64 references of sum, mean and max over axes, and of NumPy-style broadcasting.

import { contiguousStrides, numel, type Shape } from '../common.js';
import type { ReduceOp } from '../reduce.js';

/** Reduces `x` of `shape` over `axes` (non-negative); the result keeps the other axes in order. */
export function reduceReference(
  x: ArrayLike<number>,
  shape: Shape,
  axes: readonly number[],
  op: ReduceOp,
): Float64Array {
  const reduced = new Set(axes);
  const keptShape = shape.map((size, axis) => (reduced.has(axis) ? 1 : size));
  const keptStrides = contiguousStrides(keptShape);
  const strides = contiguousStrides(shape);
  const outputs = numel(keptShape);
  const count = numel(shape) / outputs;
  const result = new Float64Array(outputs).fill(op === 'max' ? -Infinity : 0);
  for (let i = 0; i < x.length; i++) {
    let o = 0;
    for (let axis = 0; axis < shape.length; axis++) {
      const coordinate = Math.floor(i / strides[axis]!) % shape[axis]!;
      if (!reduced.has(axis)) o += coordinate * keptStrides[axis]!;
    }
    result[o] = op === 'max' ? Math.max(result[o]!, x[i]!) : result[o]! + x[i]!;
  }
  if (op === 'mean') for (let o = 0; o < outputs; o++) result[o]! /= count;
  return result;
}

/** Reads `x` of `shape` at every element of `outShape` under broadcasting. */
export function broadcastTo(x: ArrayLike<number>, shape: Shape, outShape: Shape): Float64Array {
  const offset = outShape.length - shape.length;
  const strides = contiguousStrides(shape);
  const outStrides = contiguousStrides(outShape);
  return Float64Array.from({ length: numel(outShape) }, (_, i) => {
    let index = 0;
    for (let axis = offset; axis < outShape.length; axis++) {
      const coordinate = Math.floor(i / outStrides[axis]!) % outShape[axis]!;
      if (shape[axis - offset] !== 1) index += coordinate * strides[axis - offset]!;
    }
    return x[index]!;
  });
}

/** Sums `x` of `outShape` back to `shape`, the adjoint of broadcastTo. */
export function sumTo(x: ArrayLike<number>, outShape: Shape, shape: Shape): Float64Array {
  const offset = outShape.length - shape.length;
  const axes = outShape
    .map((size, axis) => (axis < offset || (shape[axis - offset] === 1 && size > 1) ? axis : -1))
    .filter((axis) => axis >= 0);
  return reduceReference(x, outShape, axes, 'sum');
}
