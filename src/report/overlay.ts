// Saliency overlays for report.html: a slice of the image in grey with the saliency map of the
// same slice blended on top in a heat colour scale (dark red, red, yellow, white).

import { encodeRgbPng, greyLevels, middleSlice, pngDataUrl, range } from './png.js';

/** Saliency below this fraction of the scale is left transparent, so the anatomy shows. */
const THRESHOLD = 0.15;
/** Opacity of the overlay at the top of the scale. */
const MAX_ALPHA = 0.8;

/** Returns the heat colour of `t` in [0, 1] as RGB bytes (the 'hot' colour map). */
export function heatColour(t: number): [number, number, number] {
  const clamp = (value: number) => Math.max(0, Math.min(1, value));
  return [clamp(3 * t), clamp(3 * t - 1), clamp(3 * t - 2)].map((c) => Math.round(255 * c)) as [
    number,
    number,
    number,
  ];
}

/**
 * Returns the middle slice across voxel axis `axis` of a `[C, D, H, W]` image with its
 * saliency map (the same shape, or one channel) blended on top, as an RGB PNG data URL. The
 * colour scale ends at `scale`, such as the 99th percentile of the sample's saliency.
 */
export function overlayDataUrl(
  image: Float32Array,
  saliency: Float32Array,
  shape: readonly number[],
  axis: number,
  scale: number,
): string {
  const [nz, ny, nx] = shape.slice(-3) as [number, number, number];
  const [lo, hi] = range(image.subarray(0, nx * ny * nz));
  const base = middleSlice(image, shape, axis);
  const grey = greyLevels(base.values, lo, hi);
  const heat = middleSlice(saliency, shape, axis).values;
  const pixels = new Uint8Array(3 * grey.length);
  for (let pixel = 0; pixel < grey.length; pixel++) {
    const t = scale > 0 ? Math.min(1, heat[pixel]! / scale) : 0;
    const alpha = t < THRESHOLD ? 0 : MAX_ALPHA * t;
    const colour = heatColour(t);
    for (let channel = 0; channel < 3; channel++) {
      const blended = (1 - alpha) * grey[pixel]! + alpha * colour[channel]!;
      pixels[3 * pixel + channel] = Math.round(blended);
    }
  }
  return pngDataUrl(encodeRgbPng(pixels, base.width, base.height));
}

/** Returns the colour scale's top for a saliency map: its 99th percentile (its maximum if 0). */
export function saliencyScale(saliency: Float32Array): number {
  const [, high] = range(saliency, 0, 0.99);
  if (high > 0) return high;
  let max = 0;
  for (const value of saliency) max = Math.max(max, value);
  return max;
}
