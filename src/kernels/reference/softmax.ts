// Float64 references of softmax and log-softmax over one axis, and their gradients.

import { numel, type Shape } from '../common.js';

function forEachRow(shape: Shape, axis: number, visit: (indices: number[]) => void): void {
  const classes = shape[axis]!;
  const inner = numel(shape.slice(axis + 1));
  const rows = numel(shape) / classes;
  for (let row = 0; row < rows; row++) {
    const base = Math.floor(row / inner) * classes * inner + (row % inner);
    visit(Array.from({ length: classes }, (_, c) => base + c * inner));
  }
}

export function softmaxReference(
  x: ArrayLike<number>,
  shape: Shape,
  axis: number,
  log: boolean,
): Float64Array {
  const y = new Float64Array(x.length);
  forEachRow(shape, axis, (indices) => {
    const peak = Math.max(...indices.map((i) => x[i]!));
    const logTotal = Math.log(indices.reduce((sum, i) => sum + Math.exp(x[i]! - peak), 0));
    for (const i of indices) {
      const logP = x[i]! - peak - logTotal;
      y[i] = log ? logP : Math.exp(logP);
    }
  });
  return y;
}

/** Input gradient from the forward output y and the output gradient dy. */
export function softmaxBackwardReference(
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: Shape,
  axis: number,
  log: boolean,
): Float64Array {
  const dx = new Float64Array(y.length);
  forEachRow(shape, axis, (indices) => {
    if (log) {
      const total = indices.reduce((sum, i) => sum + dy[i]!, 0);
      for (const i of indices) dx[i] = dy[i]! - Math.exp(y[i]!) * total;
    } else {
      const total = indices.reduce((sum, i) => sum + dy[i]! * y[i]!, 0);
      for (const i of indices) dx[i] = y[i]! * (dy[i]! - total);
    }
  });
  return dx;
}
