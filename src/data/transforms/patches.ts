// Patch and slice extraction. Patches tile the volume with a size and a stride, and positions
// where a patch would not fit are dropped, as torch.Tensor.unfold drops them. Patches are
// numbered with x fastest, then y, then z. Slices along one axis skip `discarded` slices at
// each border.

import { UserError } from '../../errors.js';
import type { Volume } from '../volume.js';
import type { Dims, ImageBackend } from '../wasm/backend.js';
import { checkDims, volumeName } from './grid.js';

/** Boxes cut from a volume: each box contains every frame, frame by frame, x fastest. */
export interface Boxes {
  /** Size of one box, [x, y, z]. */
  boxDims: Dims;
  /** First input voxel of each box. */
  starts: Dims[];
  /** One array per box, of boxDims' product times the volume's frame count. */
  data: Float32Array[];
}

/** Cuts patches of `patchSize` voxels every `stride` voxels along each axis. */
export function extractPatches(
  backend: ImageBackend,
  volume: Volume,
  patchSize: number | readonly number[],
  stride: number | readonly number[],
): Boxes {
  const size = checkDims(
    typeof patchSize === 'number' ? [patchSize, patchSize, patchSize] : patchSize,
    'Patch size',
  );
  const step = checkDims(
    typeof stride === 'number' ? [stride, stride, stride] : stride,
    'Patch stride',
  );
  const dims = volume.spatialShape;
  if (size.some((extent, axis) => extent > dims[axis]!)) {
    throw new UserError(
      `Patch size [${size.join(', ')}] is larger than ${volumeName(volume)} ` +
        `([${dims.join(', ')}]); choose a size that fits.`,
    );
  }
  const positions = size.map((extent, axis) => {
    const count = Math.floor((dims[axis]! - extent) / step[axis]!) + 1;
    return Array.from({ length: count }, (_, index) => index * step[axis]!);
  });
  const starts: Dims[] = [];
  for (const z of positions[2]!) {
    for (const y of positions[1]!) for (const x of positions[0]!) starts.push([x, y, z]);
  }
  return cutBoxes(backend, volume, size, starts);
}

/**
 * Cuts every slice perpendicular to `axis` (0 = x, sagittal in RAS; 1 = y, coronal; 2 = z,
 * axial) except `discarded` slices at each end. A slice keeps the other two axes, x fastest.
 */
export function extractSlices(
  backend: ImageBackend,
  volume: Volume,
  axis: number,
  discarded = 0,
): Boxes {
  if (axis !== 0 && axis !== 1 && axis !== 2) {
    throw new UserError(`Slice axis ${axis} is invalid: expected 0 (x), 1 (y) or 2 (z).`);
  }
  const dims = volume.spatialShape;
  if (!Number.isInteger(discarded) || discarded < 0 || 2 * discarded >= dims[axis]!) {
    throw new UserError(
      `Discarding ${discarded} slice(s) at each end of axis ${axis} of ${volumeName(volume)} ` +
        `(${dims[axis]} slices) is invalid: expected an integer >= 0 that leaves a slice.`,
    );
  }
  const boxDims = dims.map((n, index) => (index === axis ? 1 : n)) as unknown as Dims;
  const starts: Dims[] = [];
  for (let position = discarded; position < dims[axis]! - discarded; position++) {
    starts.push([0, 1, 2].map((index) => (index === axis ? position : 0)) as unknown as Dims);
  }
  return cutBoxes(backend, volume, boxDims, starts);
}

function cutBoxes(backend: ImageBackend, volume: Volume, boxDims: Dims, starts: Dims[]): Boxes {
  const boxSize = boxDims[0] * boxDims[1] * boxDims[2];
  const frames = volume.frameCount;
  const data = starts.map(() => new Float32Array(boxSize * frames));
  const packedStarts = Int32Array.from(starts.flat());
  for (let frame = 0; frame < frames; frame++) {
    const input = volume.data.subarray(frame * volume.frameSize, (frame + 1) * volume.frameSize);
    const all = backend.extractBoxes(input, volume.spatialShape, boxDims, packedStarts, 0);
    data.forEach((box, index) => {
      box.set(all.subarray(index * boxSize, (index + 1) * boxSize), frame * boxSize);
    });
  }
  return { boxDims, starts, data };
}
