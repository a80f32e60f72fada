// Reading a NIfTI file in the page's worker, with messages that fit the page: the header is
// read first, so a file the page cannot use (a .hdr/.img half, a 4D series, an image over
// the size limit) is named with what to do in the page before any voxel is inflated.

import { DEFAULT_MAX_BYTES, decodeNiftiHeader } from '../data/nifti/decode.js';
import { bytesSource, readNiftiBytes } from '../data/nifti/web.js';
import type { Volume } from '../data/volume.js';
import { UserError } from '../errors.js';
import { isPairHalf, niftiNameError } from './training-list.js';

/** Reads one 3D NIfTI image for a model of the page; `limitBytes` is the float32 size limit. */
export async function readPageVolume(
  file: Blob,
  name: string,
  limitBytes = DEFAULT_MAX_BYTES,
): Promise<Volume> {
  // Other names are left to the decoder, which checks the bytes and names a file that is
  // not NIfTI. Only the halves of a pair are rejected by name.
  if (isPairHalf(name)) throw niftiNameError(name)!;
  const { shape } = await decodeNiftiHeader(bytesSource(file, name));
  checkPageShape(name, shape, limitBytes);
  return readNiftiBytes(file, { name, maxBytes: limitBytes });
}

/** Rejects a 4D series and an image whose float32 voxels exceed `limitBytes`. */
export function checkPageShape(name: string, shape: readonly number[], limitBytes: number): void {
  const volumes = shape.slice(3).reduce((product, size) => product * size, 1);
  if (volumes > 1) {
    throw new UserError(
      `${name} contains ${volumes} volumes (shape [${shape.join(', ')}]), and the model takes ` +
        'one 3D volume: extract the volume to run, for example with fslroi or nibabel.',
    );
  }
  const voxels = shape.reduce((product, size) => product * size, 1);
  if (4 * voxels > limitBytes) {
    throw new UserError(
      `${name} is too large for the page: its header declares ${voxels} voxels ` +
        `(shape [${shape.join(', ')}]), ${4 * voxels} bytes as float32, more than the page's ` +
        `limit of ${limitBytes} bytes. Resample or crop the image, or run it with ` +
        '`clinicadl-webgpu predict`. If the image is not this large, its header is corrupt.',
    );
  }
}
