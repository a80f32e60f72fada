// PNG images of volume slices, for report.html: a slice through the middle of a volume, scaled
// to 8 bits between two percentiles of the volume, encoded as a data URL.

import { zlibSync } from 'fflate';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes 8-bit grey pixels (row-major, `width` per row) as a PNG file. */
export function encodeGreyPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  return encodePng(pixels, width, height, 1);
}

/** Encodes 8-bit RGB pixels (row-major, 3 bytes per pixel) as a PNG file. */
export function encodeRgbPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  return encodePng(pixels, width, height, 3);
}

function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3) {
  const rowBytes = width * channels;
  if (pixels.length !== rowBytes * height) {
    throw new RangeError(
      `PNG pixels: expected ${width}x${height}x${channels}, got ${pixels.length} values.`,
    );
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  // 8 bits, colour type 0 (grey) or 2 (RGB), deflate, filter 0, no interlace.
  header.set([8, channels === 1 ? 0 : 2, 0, 0, 0], 8);
  const rows = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    rows.set(pixels.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlibSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Returns the values at the `low` and `high` fractions of the sorted data. */
export function range(data: Float32Array, low = 0.01, high = 0.99): [number, number] {
  const sorted = Float32Array.from(data).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return [at(low), at(high)];
}

/** One slice of a volume as an image: values row-major, the first row on top. */
export interface Slice {
  values: Float32Array;
  width: number;
  height: number;
}

/**
 * Returns the middle slice of a `[C, D, H, W]` volume (channel 0, where x = W is the fastest
 * axis) across voxel axis `axis` (0 x, 1 y, 2 z), with the higher second axis on top.
 */
export function middleSlice(volume: Float32Array, shape: readonly number[], axis: number): Slice {
  const [nz, ny, nx] = shape.slice(-3) as [number, number, number];
  const sizes = [nx, ny, nz];
  const [u, v] = [0, 1, 2].filter((a) => a !== axis) as [number, number];
  const width = sizes[u]!;
  const height = sizes[v]!;
  const middle = Math.floor(sizes[axis]! / 2);
  const values = new Float32Array(width * height);
  const strides = [1, nx, nx * ny];
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      const index = middle * strides[axis]! + column * strides[u]! + row * strides[v]!;
      values[(height - 1 - row) * width + column] = volume[index]!;
    }
  }
  return { values, width, height };
}

/** Returns 8-bit grey levels of `values`, scaled between `lo` (black) and `hi` (white). */
export function greyLevels(values: Float32Array, lo: number, hi: number): Uint8Array {
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  return Uint8Array.from(values, (value) =>
    Math.max(0, Math.min(255, Math.round((value - lo) * scale))),
  );
}

export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

/**
 * Returns the middle slice across voxel axis `axis` of a `[C, D, H, W]` volume as a grey PNG
 * data URL, scaled between the 1st and 99th percentiles of channel 0.
 */
export function sliceDataUrl(volume: Float32Array, shape: readonly number[], axis: number): string {
  const [nz, ny, nx] = shape.slice(-3) as [number, number, number];
  const [lo, hi] = range(volume.subarray(0, nx * ny * nz));
  const slice = middleSlice(volume, shape, axis);
  return pngDataUrl(encodeGreyPng(greyLevels(slice.values, lo, hi), slice.width, slice.height));
}
