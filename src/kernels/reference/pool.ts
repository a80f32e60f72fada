// Float64 references of max, average and adaptive average pooling, written in scatter form
// (each output adds into its window), the opposite of the kernels' gather form.

import { numel } from '../common.js';
import {
  poolOutputShape,
  type AdaptivePoolGeometry,
  type AvgPoolGeometry,
  type PoolGeometry,
} from '../pool.js';

interface Axis {
  size: number;
  out: number;
  /** Input coordinates of output o's window (unclipped taps) and the padded window size. */
  taps(o: number): { coordinates: number[]; padded: number };
}

const lead = <T>(values: T[], fill: T): T[] => [
  ...new Array(3 - values.length).fill(fill),
  ...values,
];

function windowAxes(geometry: PoolGeometry, outShape: number[]): Axis[] {
  const dims = geometry.inputShape.length - 2;
  const axes: Axis[] = [];
  for (let a = 0; a < dims; a++) {
    const k = geometry.kernelSize[a]!;
    const s = geometry.stride?.[a] ?? k;
    const padding = geometry.padding?.[a] ?? 0;
    const [before, after] = typeof padding === 'number' ? [padding, padding] : padding;
    const d = geometry.dilation?.[a] ?? 1;
    const size = geometry.inputShape[a + 2]!;
    axes.push({
      size,
      out: outShape[a + 2]!,
      taps: (o) => {
        const start = o * s - before;
        const coordinates = Array.from({ length: k }, (_, t) => start + t * d);
        const padded = Math.min(start + (k - 1) * d + 1, size + after) - start;
        return { coordinates, padded };
      },
    });
  }
  return lead(axes, { size: 1, out: 1, taps: () => ({ coordinates: [0], padded: 1 }) });
}

function adaptiveAxes(geometry: AdaptivePoolGeometry): Axis[] {
  const axes = geometry.outputSize.map((out, a): Axis => {
    const size = geometry.inputShape[a + 2]!;
    return {
      size,
      out,
      taps: (o) => {
        const start = Math.floor((o * size) / out);
        const end = Math.ceil(((o + 1) * size) / out);
        const coordinates = Array.from({ length: end - start }, (_, t) => start + t);
        return { coordinates, padded: end - start };
      },
    };
  });
  return lead(axes, { size: 1, out: 1, taps: () => ({ coordinates: [0], padded: 1 }) });
}

/** Calls visit(o, inputIndices, paddedCount) for every output of every plane. */
function forEachWindow(
  planes: number,
  axes: Axis[],
  visit: (o: number, inputs: number[], padded: number) => void,
): void {
  const [ad, ah, aw] = axes as [Axis, Axis, Axis];
  const planeIn = ad.size * ah.size * aw.size;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    for (let od = 0; od < ad.out; od++) {
      for (let oh = 0; oh < ah.out; oh++) {
        for (let ow = 0; ow < aw.out; ow++) {
          const [td, th, tw] = [ad.taps(od), ah.taps(oh), aw.taps(ow)];
          const inputs: number[] = [];
          for (const d of td.coordinates) {
            for (const h of th.coordinates) {
              for (const w of tw.coordinates) {
                const inside =
                  d >= 0 && d < ad.size && h >= 0 && h < ah.size && w >= 0 && w < aw.size;
                if (inside) inputs.push(p * planeIn + (d * ah.size + h) * aw.size + w);
              }
            }
          }
          visit(o++, inputs, td.padded * th.padded * tw.padded);
        }
      }
    }
  }
}

const planesOf = (shape: readonly number[]) => shape[0]! * shape[1]!;

/**
 * Max pooling, plain or adaptive (when the geometry has outputSize): values and argmax
 * indices into each input plane (first maximum wins).
 */
export function maxPoolReference(
  geometry: PoolGeometry | AdaptivePoolGeometry,
  x: ArrayLike<number>,
) {
  const adaptive = 'outputSize' in geometry;
  const outShape = adaptive
    ? [geometry.inputShape[0]!, geometry.inputShape[1]!, ...geometry.outputSize]
    : poolOutputShape(geometry);
  const axes = adaptive ? adaptiveAxes(geometry) : windowAxes(geometry, outShape);
  const y = new Float64Array(numel(outShape));
  const argmax = new Uint32Array(y.length);
  const planeIn = numel(geometry.inputShape.slice(2));
  forEachWindow(planesOf(geometry.inputShape), axes, (o, inputs) => {
    let best = inputs[0]!;
    for (const index of inputs) if (x[index]! > x[best]!) best = index;
    y[o] = x[best]!;
    argmax[o] = best % planeIn;
  });
  return { y, argmax, outShape };
}

export function maxPoolBackwardReference(
  geometry: PoolGeometry | AdaptivePoolGeometry,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
): Float64Array {
  const { argmax } = maxPoolReference(geometry, x);
  const planeIn = numel(geometry.inputShape.slice(2));
  const planeOut = argmax.length / planesOf(geometry.inputShape);
  const dx = new Float64Array(numel(geometry.inputShape));
  argmax.forEach((index, o) => (dx[Math.floor(o / planeOut) * planeIn + index]! += dy[o]!));
  return dx;
}

function averageWindows(geometry: AvgPoolGeometry | AdaptivePoolGeometry) {
  if ('outputSize' in geometry) {
    const outShape = [geometry.inputShape[0]!, geometry.inputShape[1]!, ...geometry.outputSize];
    return { outShape, axes: adaptiveAxes(geometry), divisor: (count: number) => count };
  }
  const outShape = poolOutputShape(geometry);
  const includePad = geometry.countIncludePad ?? true;
  const divisor = (count: number, padded: number) =>
    geometry.divisorOverride ?? (includePad ? padded : count);
  return { outShape, axes: windowAxes(geometry, outShape), divisor };
}

/** Average pooling, plain or adaptive (when the geometry has outputSize). */
export function avgPoolReference(
  geometry: AvgPoolGeometry | AdaptivePoolGeometry,
  x: ArrayLike<number>,
): Float64Array {
  const { outShape, axes, divisor } = averageWindows(geometry);
  const y = new Float64Array(numel(outShape));
  forEachWindow(planesOf(geometry.inputShape), axes, (o, inputs, padded) => {
    const sum = inputs.reduce((total, index) => total + x[index]!, 0);
    y[o] = sum / divisor(inputs.length, padded);
  });
  return y;
}

export function avgPoolBackwardReference(
  geometry: AvgPoolGeometry | AdaptivePoolGeometry,
  dy: ArrayLike<number>,
): Float64Array {
  const { axes, divisor } = averageWindows(geometry);
  const dx = new Float64Array(numel(geometry.inputShape));
  forEachWindow(planesOf(geometry.inputShape), axes, (o, inputs, padded) => {
    for (const index of inputs) dx[index]! += dy[o]! / divisor(inputs.length, padded);
  });
  return dx;
}
