// References of permute, slice, concatenation and padding, by coordinates.

import { contiguousStrides, numel, type Shape } from '../common.js';
import type { PadGeometry, SliceGeometry } from '../copy.js';

function coordinatesOf(index: number, shape: Shape): number[] {
  const strides = contiguousStrides(shape);
  return shape.map((size, a) => Math.floor(index / strides[a]!) % size);
}

function indexOf(coordinates: readonly number[], shape: Shape): number {
  const strides = contiguousStrides(shape);
  return coordinates.reduce((offset, c, a) => offset + c * strides[a]!, 0);
}

export function permuteReference(
  x: ArrayLike<number>,
  shape: Shape,
  axes: readonly number[],
): Float64Array {
  const outShape = axes.map((axis) => shape[axis]!);
  return Float64Array.from({ length: x.length }, (_, i) => {
    const out = coordinatesOf(i, outShape);
    const source = new Array<number>(shape.length);
    axes.forEach((axis, k) => (source[axis] = out[k]!));
    return x[indexOf(source, shape)]!;
  });
}

export function sliceReference(x: ArrayLike<number>, geometry: SliceGeometry): Float64Array {
  const { shape } = geometry;
  const start = (a: number) => geometry.starts?.[a] ?? 0;
  const step = (a: number) => geometry.steps?.[a] ?? 1;
  const outShape = shape.map((size, a) =>
    Math.ceil(((geometry.ends?.[a] ?? size) - start(a)) / step(a)),
  );
  return Float64Array.from({ length: numel(outShape) }, (_, i) => {
    const c = coordinatesOf(i, outShape).map((v, a) => start(a) + v * step(a));
    return x[indexOf(c, shape)]!;
  });
}

export function concatReference(
  inputs: ArrayLike<number>[],
  shapes: readonly Shape[],
  axis: number,
): Float64Array {
  const outShape = [...shapes[0]!];
  outShape[axis] = shapes.reduce((total, s) => total + s[axis]!, 0);
  const y = new Float64Array(numel(outShape));
  let offset = 0;
  inputs.forEach((x, k) => {
    for (let i = 0; i < x.length; i++) {
      const c = coordinatesOf(i, shapes[k]!);
      c[axis]! += offset;
      y[indexOf(c, outShape)] = x[i]!;
    }
    offset += shapes[k]![axis]!;
  });
  return y;
}

export function padReference(x: ArrayLike<number>, geometry: PadGeometry): Float64Array {
  const { shape, padding } = geometry;
  const mode = geometry.mode ?? 'constant';
  const outShape = shape.map((size, a) => size + padding[a]![0] + padding[a]![1]);
  return Float64Array.from({ length: numel(outShape) }, (_, i) => {
    let inside = true;
    const source = coordinatesOf(i, outShape).map((v, a) => {
      const c = v - padding[a]![0];
      const size = shape[a]!;
      if (c < 0 || c >= size) inside = false;
      if (mode === 'reflect') {
        if (c < 0) return -c;
        return c >= size ? 2 * (size - 1) - c : c;
      }
      return Math.min(Math.max(c, 0), size - 1);
    });
    return mode === 'constant' && !inside ? (geometry.value ?? 0) : x[indexOf(source, shape)]!;
  });
}

/** Adjoint of padReference: sums every padded output back into the input it reads. */
export function padBackwardReference(dy: ArrayLike<number>, geometry: PadGeometry): Float64Array {
  const { shape, padding } = geometry;
  const mode = geometry.mode ?? 'constant';
  const outShape = shape.map((size, a) => size + padding[a]![0] + padding[a]![1]);
  const dx = new Float64Array(numel(shape));
  for (let o = 0; o < dy.length; o++) {
    let inside = true;
    const source = coordinatesOf(o, outShape).map((v, a) => {
      const c = v - padding[a]![0];
      const size = shape[a]!;
      if (c < 0 || c >= size) inside = false;
      if (mode === 'reflect') {
        if (c < 0) return -c;
        return c >= size ? 2 * (size - 1) - c : c;
      }
      return Math.min(Math.max(c, 0), size - 1);
    });
    if (mode !== 'constant' || inside) dx[indexOf(source, shape)]! += dy[o]!;
  }
  return dx;
}
