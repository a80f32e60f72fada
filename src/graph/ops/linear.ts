// Dense products: linear (x · Wᵀ + b on the last axis) and batched matmul.

import { ShapeError } from '../errors.js';
import { formatShape, numElements, type Shape } from '../ir.js';
import { broadcastShapes, expectShape, type OpDef } from './types.js';

export type LinearAttrs = Record<string, never>;

export interface MatmulAttrs {
  /** Use the transpose of the last two axes of the first input. */
  transposeA: boolean;
  /** Use the transpose of the last two axes of the second input. */
  transposeB: boolean;
}

export interface LinearOpAttrs {
  linear: LinearAttrs;
  matmul: MatmulAttrs;
}

function inferLinear(inputs: readonly Shape[]): Shape[] {
  if (inputs.length !== 2 && inputs.length !== 3) {
    throw new ShapeError('linear takes an input, a weight [out, in] and an optional bias [out]');
  }
  const [x, weight] = inputs;
  if (x.length < 1 || weight.length !== 2) {
    throw new ShapeError(
      `linear needs an input of rank >= 1 and a weight [out, in], got ${formatShape(x)} and ` +
        `${formatShape(weight)}`,
    );
  }
  const features = x[x.length - 1];
  if (weight[1] !== features) {
    throw new ShapeError(
      `weight ${formatShape(weight)} expects ${weight[1]} input features but the last axis of ` +
        `the input has ${features}`,
    );
  }
  if (inputs.length === 3) expectShape(inputs[2], [weight[0]], 'bias');
  return [[...x.slice(0, -1), weight[0]]];
}

function linearFlops(inputs: readonly Shape[], outputs: readonly Shape[]): number {
  const biasFlops = inputs.length === 3 ? numElements(outputs[0]) : 0;
  return 2 * inputs[1][1] * numElements(outputs[0]) + biasFlops;
}

function matrixDims(shape: Shape, transpose: boolean): [number, number] {
  const rows = shape[shape.length - 2];
  const cols = shape[shape.length - 1];
  return transpose ? [cols, rows] : [rows, cols];
}

function inferMatmul(inputs: readonly Shape[], attrs: MatmulAttrs): Shape[] {
  if (inputs.length !== 2) throw new ShapeError(`matmul takes 2 inputs, got ${inputs.length}`);
  const [a, b] = inputs;
  if (a.length < 2 || b.length < 2) {
    throw new ShapeError(
      `matmul needs inputs of rank >= 2, got ${formatShape(a)} and ${formatShape(b)}`,
    );
  }
  const [m, k] = matrixDims(a, attrs.transposeA);
  const [kb, n] = matrixDims(b, attrs.transposeB);
  if (k !== kb) {
    throw new ShapeError(
      `matmul inner sizes differ: ${k} (first input${attrs.transposeA ? ', transposed' : ''}) ` +
        `and ${kb} (second input${attrs.transposeB ? ', transposed' : ''})`,
    );
  }
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  return [[...batch, m, n]];
}

function matmulFlops(inputs: readonly Shape[], outputs: readonly Shape[], attrs: MatmulAttrs) {
  const [, k] = matrixDims(inputs[0], attrs.transposeA);
  return 2 * k * numElements(outputs[0]);
}

export const LINEAR_OPS: { [K in keyof LinearOpAttrs]: OpDef<LinearOpAttrs[K]> } = {
  linear: { inferShape: inferLinear, flops: linearFlops },
  matmul: { inferShape: inferMatmul, flops: matmulFlops },
};
