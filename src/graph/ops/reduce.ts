// Softmax along one axis and reductions (sum, mean, max) over a set of axes.

import { ShapeError } from '../errors.js';
import { numElements, type Shape } from '../ir.js';
import { expectAxis, expectInputCount, type OpDef } from './types.js';

export interface SoftmaxAttrs {
  axis: number;
}

export interface ReduceAttrs {
  /** Reduced axes: distinct, non-negative, ascending. */
  axes: readonly number[];
  /** Keep reduced axes with size 1. */
  keepDims: boolean;
}

export interface ReduceOpAttrs {
  softmax: SoftmaxAttrs;
  logSoftmax: SoftmaxAttrs;
  sum: ReduceAttrs;
  mean: ReduceAttrs;
  max: ReduceAttrs;
}

function inferSoftmax(inputs: readonly Shape[], attrs: SoftmaxAttrs): Shape[] {
  expectInputCount(inputs, 1, 'x');
  expectAxis(attrs.axis, inputs[0].length, 'softmax axis');
  return [inputs[0]];
}

function inferReduce(inputs: readonly Shape[], attrs: ReduceAttrs): Shape[] {
  expectInputCount(inputs, 1, 'x');
  const x = inputs[0];
  attrs.axes.forEach((axis, i) => {
    expectAxis(axis, x.length, 'reduction axis');
    if (i > 0 && axis <= attrs.axes[i - 1]) {
      throw new ShapeError(
        `reduction axes [${attrs.axes.join(', ')}] must be distinct and in ascending order`,
      );
    }
  });
  if (attrs.axes.length === 0) throw new ShapeError('reduction needs at least one axis');
  const reduced = new Set(attrs.axes);
  const shape: number[] = [];
  x.forEach((size, axis) => {
    if (!reduced.has(axis)) shape.push(size);
    else if (attrs.keepDims) shape.push(1);
  });
  return [shape];
}

/** Max, subtract, exp, sum and divide (or log): 5 per element. */
const softmaxFlops = (inputs: readonly Shape[]) => 5 * numElements(inputs[0]);
/** One add or comparison per input element. */
const reduceFlops = (inputs: readonly Shape[]) => numElements(inputs[0]);

export const REDUCE_OPS: { [K in keyof ReduceOpAttrs]: OpDef<ReduceOpAttrs[K]> } = {
  softmax: { inferShape: inferSoftmax, flops: softmaxFlops },
  logSoftmax: { inferShape: inferSoftmax, flops: softmaxFlops },
  sum: { inferShape: inferReduce, flops: reduceFlops },
  mean: { inferShape: inferReduce, flops: reduceFlops },
  max: { inferShape: inferReduce, flops: reduceFlops },
};
