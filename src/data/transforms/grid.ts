// Grid bookkeeping shared by the volume transforms: per-frame application, affines of moved
// or resized grids, the voxel map between two grids, and the checks that two volumes share one.

import { UserError } from '../../errors.js';
import {
  affineToRows,
  derivedHeader,
  invertAffine,
  multiplyAffines,
  Volume,
  volumeName,
  type Affine,
  type VolumeHeader,
} from '../volume.js';
import type { Dims } from '../wasm/backend.js';
import { WASM_BLOCK_LIMIT_BYTES } from '../wasm/kernels.js';

/** Largest difference between two affines' entries (mm) for them to count as one grid. */
const GRID_TOLERANCE_MM = 1e-4;

export { volumeName };

/** Returns 'shape [x, y, z] with affine [[...], ...]' for messages about grids. */
export function describeGrid(volume: Volume): string {
  const rows = affineToRows(volume.affine).map(
    (row) => `[${row.map((value) => Number(value.toPrecision(6))).join(', ')}]`,
  );
  return `shape [${volume.spatialShape.join(', ')}] with affine [${rows.join(', ')}]`;
}

/** Throws when `other` is not on the grid of `image`, naming both grids. */
export function checkSameGrid(image: Volume, other: Volume, role: string): void {
  const sameShape = image.spatialShape.every((size, axis) => size === other.spatialShape[axis]);
  const sameAffine = image.affine.every(
    (value, index) => Math.abs(value - other.affine[index]!) <= GRID_TOLERANCE_MM,
  );
  if (sameShape && sameAffine) return;
  throw new UserError(
    `The ${role} ${volumeName(other)} (${describeGrid(other)}) is not on the grid of the image ` +
      `${volumeName(image)} (${describeGrid(image)}). Resample it onto the image first ` +
      "(resampleToReference with interpolation 'nearest' for labels).",
  );
}

/**
 * Maximum voxels in one output frame, because the Wasm image kernels hold a frame as float32
 * in one block of their memory.
 */
export const MAX_FRAME_VOXELS = Math.floor(WASM_BLOCK_LIMIT_BYTES / 4);

/**
 * Throws a UserError, before anything is allocated, when `operation` on `volume` would make
 * frames of `outDims` too large for the Wasm image kernels. `advice` tells the user what to
 * change.
 */
export function checkOutputSize(
  operation: string,
  volume: Volume,
  outDims: Dims,
  advice: string,
): void {
  const frameVoxels = outDims[0] * outDims[1] * outDims[2];
  if (frameVoxels <= MAX_FRAME_VOXELS) return;
  throw new UserError(
    `${operation} of ${volumeName(volume)} would make frames of [${outDims.join(', ')}] = ` +
      `${frameVoxels} voxels (${4 * frameVoxels} bytes as float32), more than the ` +
      `${MAX_FRAME_VOXELS} voxels that the Wasm image kernels can hold in one frame; ${advice}.`,
  );
}

/**
 * Applies `transform` to each 3D frame of a volume and returns a volume of the results, each
 * of `outDims`, with the given affine and the header of a float32 volume. `operation` names
 * the caller in errors, and in the new volume's name (see volumeName).
 */
export function mapFrames(
  operation: string,
  volume: Volume,
  outDims: Dims,
  affine: Affine,
  transform: (frame: Float32Array) => Float32Array,
): Volume {
  checkOutputSize(operation, volume, outDims, 'use a smaller image or output shape');
  const frameSize = volume.frameSize;
  const outFrameSize = outDims[0] * outDims[1] * outDims[2];
  const data = allocateOutput(operation, volume, outFrameSize * volume.frameCount);
  for (let frame = 0; frame < volume.frameCount; frame++) {
    const input = volume.data.subarray(frame * frameSize, (frame + 1) * frameSize);
    data.set(transform(input), frame * outFrameSize);
  }
  const shape = [...outDims, ...volume.shape.slice(3)];
  const header = derivedHeader(float32Header(volume.header, affine), operation);
  return new Volume(data, shape, affine, header);
}

// All frames of the output are one Float32Array, which JavaScript or the host's memory may not
// be able to hold even when each frame fits in the Wasm memory.
function allocateOutput(operation: string, volume: Volume, length: number): Float32Array {
  try {
    return new Float32Array(length);
  } catch (error) {
    throw new UserError(
      `${operation} of ${volumeName(volume)} needs an output of ${length} float32 values ` +
        `(${volume.frameCount} frames), which cannot be allocated (${(error as Error).message}); ` +
        'use a smaller output shape or fewer frames.',
    );
  }
}

/** Returns the header for float32 values on a grid with `affine`: no scaling, new voxel sizes. */
export function float32Header(header: VolumeHeader, affine: Affine): VolumeHeader {
  const pixdim = [...header.pixdim];
  for (let column = 0; column < 3; column++) {
    pixdim[column] = Math.hypot(affine[column]!, affine[4 + column]!, affine[8 + column]!);
  }
  return { ...header, datatype: 16, sclSlope: 1, sclInter: 0, pixdim };
}

/** Returns the affine of the grid whose voxel (0, 0, 0) is voxel `start` of `affine`'s grid. */
export function translateAffine(affine: Affine, start: readonly number[]): Affine {
  const out = new Float64Array(affine);
  for (let row = 0; row < 3; row++) {
    let shift = 0;
    for (let column = 0; column < 3; column++) shift += affine[4 * row + column]! * start[column]!;
    out[4 * row + 3] = affine[4 * row + 3]! + shift;
  }
  return out;
}

/** Returns the 3x4 row-major map (12 numbers) from output voxel indices to input ones. */
export function voxelMap(inputAffine: Affine, outputAffine: Affine): Float64Array {
  return multiplyAffines(invertAffine(inputAffine), outputAffine).slice(0, 12);
}

/** Checks three positive integer sizes, naming the argument in the error. */
export function checkDims(value: readonly number[], argument: string): Dims {
  if (value.length !== 3 || !value.every((size) => Number.isInteger(size) && size >= 1)) {
    throw new UserError(
      `${argument} [${value.join(', ')}] is invalid: expected three positive integers (x, y, z).`,
    );
  }
  return [value[0]!, value[1]!, value[2]!];
}

/** Expands a number to three values, or checks that an array has three. */
export function perAxis(
  value: number | readonly number[],
  argument: string,
): [number, number, number] {
  const values = typeof value === 'number' ? [value, value, value] : [...value];
  if (values.length !== 3 || !values.every((item) => Number.isFinite(item))) {
    throw new UserError(
      `${argument} [${values.join(', ')}] is invalid: expected one finite number or three (x, y, z).`,
    );
  }
  return values as [number, number, number];
}
