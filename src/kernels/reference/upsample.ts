// Float64 reference of nearest and (bi/tri)linear upsampling in scatter form, with the
// coordinate scales in f32 as PyTorch and the kernels compute them.

import { numel } from '../common.js';
import { upsampleScale, type UpsampleGeometry } from '../upsample.js';

/** Input coordinates and weights that output o reads along one axis. */
function axisTaps(geometry: UpsampleGeometry, axis: number, o: number): [number, number][] {
  const size = geometry.inputShape[axis + 2]!;
  const scale = upsampleScale(geometry, axis);
  if (geometry.mode === 'nearest')
    return [[Math.min(Math.floor(Math.fround(o * scale)), size - 1), 1]];
  const src = geometry.alignCorners ? scale * o : Math.max(scale * (o + 0.5) - 0.5, 0);
  const i0 = Math.floor(src);
  const i1 = i0 < size - 1 ? i0 + 1 : i0;
  return [
    [i0, 1 - (src - i0)],
    [i1, src - i0],
  ];
}

/** Visits every (output index, input index, weight) triple. */
function forEachTap(
  geometry: UpsampleGeometry,
  visit: (o: number, i: number, w: number) => void,
): void {
  const spatialIn = geometry.inputShape.slice(2);
  const planes = geometry.inputShape[0]! * geometry.inputShape[1]!;
  const outSize = numel(geometry.outputSize);
  const inSize = numel(spatialIn);
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < outSize; o++) {
      // Coordinates of o, innermost axis last.
      let rest = o;
      const coordinates = geometry.outputSize.map(() => 0);
      for (let a = geometry.outputSize.length - 1; a >= 0; a--) {
        coordinates[a] = rest % geometry.outputSize[a]!;
        rest = Math.floor(rest / geometry.outputSize[a]!);
      }
      let combos: [number, number][] = [[0, 1]];
      coordinates.forEach((c, a) => {
        combos = combos.flatMap(([index, weight]) =>
          axisTaps(geometry, a, c).map(([i, w]): [number, number] => [
            index * spatialIn[a]! + i,
            weight * w,
          ]),
        );
      });
      for (const [index, weight] of combos) visit(p * outSize + o, p * inSize + index, weight);
    }
  }
}

export function upsampleReference(geometry: UpsampleGeometry, x: ArrayLike<number>): Float64Array {
  const planes = geometry.inputShape[0]! * geometry.inputShape[1]!;
  const y = new Float64Array(planes * numel(geometry.outputSize));
  forEachTap(geometry, (o, i, w) => (y[o]! += w * x[i]!));
  return y;
}

export function upsampleBackwardReference(
  geometry: UpsampleGeometry,
  dy: ArrayLike<number>,
): Float64Array {
  const dx = new Float64Array(numel(geometry.inputShape));
  forEachTap(geometry, (o, i, w) => (dx[i]! += w * dy[o]!));
  return dx;
}
