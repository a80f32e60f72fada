// The contract of an op-table entry and the checks its shape inference shares.

import { ShapeError } from '../errors.js';
import { formatShape, numElements, type DType, type Shape } from '../ir.js';

/** Padding of one axis: elements added before the first and after the last. */
export type AxisPadding = readonly [number, number];

export interface OpDef<A> {
  /** Output shapes for these input shapes and attributes; throws ShapeError when they do not fit. */
  inferShape(inputs: readonly Shape[], attrs: A): Shape[];
  /**
   * Forward FLOPs for the whole batch. A multiply-add counts 2; the conventions for other ops are
   * stated in ops/index.ts.
   */
  flops(inputs: readonly Shape[], outputs: readonly Shape[], attrs: A): number;
  /** Output dtypes for these input dtypes; without it every output takes the first input's. */
  inferDType?(inputs: readonly DType[], attrs: A): DType[];
}

export function expectInputCount(inputs: readonly Shape[], count: number, what: string): void {
  if (inputs.length !== count) {
    throw new ShapeError(`expected ${count} inputs (${what}) but got ${inputs.length}`);
  }
}

export function expectRank(shape: Shape, ranks: readonly number[], what: string): void {
  if (!ranks.includes(shape.length)) {
    throw new ShapeError(
      `${what} must have rank ${ranks.join(' or ')} but has shape ${formatShape(shape)}`,
    );
  }
}

export function expectShape(actual: Shape, expected: Shape, what: string): void {
  const same = actual.length === expected.length && actual.every((s, i) => s === expected[i]);
  if (!same) {
    throw new ShapeError(
      `${what} must have shape ${formatShape(expected)} but has ${formatShape(actual)}`,
    );
  }
}

/** Checks that an attribute array has one integer entry per spatial axis, each >= `min`. */
export function expectPerAxis(values: readonly number[], axes: number, min: number, what: string) {
  if (values.length !== axes) {
    throw new ShapeError(
      `${what} has ${values.length} entries [${values.join(', ')}] but the input has ${axes} ` +
        `spatial axes; give one entry per axis`,
    );
  }
  for (const value of values) {
    if (!Number.isInteger(value) || value < min) {
      throw new ShapeError(
        `${what} entries must be integers >= ${min}, got [${values.join(', ')}]`,
      );
    }
  }
}

export function expectPadding(padding: readonly AxisPadding[], axes: number, what: string): void {
  const flat = padding.flat();
  if (padding.length !== axes || flat.length !== 2 * axes) {
    throw new ShapeError(
      `${what} needs one [before, after] pair per axis (${axes}), got ${JSON.stringify(padding)}`,
    );
  }
  if (flat.some((value) => !Number.isInteger(value) || value < 0)) {
    throw new ShapeError(`${what} entries must be integers >= 0, got ${JSON.stringify(padding)}`);
  }
}

/** Checks a computed output size and returns it; a size below 1 means the input is too small. */
export function checkOutputSize(size: number, axis: number, what: string): number {
  if (size < 1) {
    throw new ShapeError(
      `${what} would produce size ${size} along spatial axis ${axis}; the input is too small ` +
        `for this kernel, stride and padding`,
    );
  }
  return size;
}

/** NumPy broadcasting of two shapes, aligned on the last axis. */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const result: number[] = [];
  for (let i = 0; i < rank; i++) {
    const sizeA = a[a.length - rank + i] ?? 1;
    const sizeB = b[b.length - rank + i] ?? 1;
    if (sizeA !== sizeB && sizeA !== 1 && sizeB !== 1) {
      throw new ShapeError(
        `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast: axis ${i} has ` +
          `sizes ${sizeA} and ${sizeB}`,
      );
    }
    result.push(sizeA === 1 ? sizeB : sizeA);
  }
  return result;
}

export function expectAxis(axis: number, rank: number, what: string): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new ShapeError(`${what} ${axis} is out of range for rank ${rank}; use 0 to ${rank - 1}`);
  }
}

/** FLOPs of an op that costs `perElement` for each element of its first output. */
export function elementwiseFlops(perElement: number) {
  return (_inputs: readonly Shape[], outputs: readonly Shape[]) =>
    perElement * numElements(outputs[0]);
}
