// Reading a NIfTI file in the page's worker, with messages that fit the page. The header is
// read first, so a file the page cannot use (a lone .hdr/.img half, a 4D series, an image
// over the size limit) is named with what to do before any voxel is inflated.

import { DEFAULT_MAX_BYTES, decodeNiftiHeader } from '../data/nifti/decode.js';
import { bytesSource, readNiftiBytes } from '../data/nifti/web.js';
import type { Volume } from '../data/volume.js';
import { UserError } from '../errors.js';
import { isPairHalf } from './training-list.js';

export interface PageVolumeOptions {
  /** The .img file of a .hdr/.img pair, when `file` is its .hdr. */
  image?: Blob;
  /** The size limit in bytes of float32 voxels; default the decoder's (2 GiB). */
  limitBytes?: number;
}

/** Reads one 3D NIfTI image (or a .hdr with its `image`) for a model of the page. */
export async function readPageVolume(
  file: Blob,
  name: string,
  options: PageVolumeOptions = {},
): Promise<Volume> {
  const { image, limitBytes = DEFAULT_MAX_BYTES } = options;
  // Other names are left to the decoder, which checks the bytes and names a file that is
  // not NIfTI. Only a half of a pair without the other half is rejected by name.
  if (image === undefined && isPairHalf(name)) {
    throw new UserError(
      `${name} is one half of a .hdr/.img pair: choose or drop the .hdr and the .img ` +
        'together, or convert the pair to .nii.',
    );
  }
  const { shape } = await decodeNiftiHeader(bytesSource(file, name), image !== undefined);
  checkPageShape(name, shape, limitBytes);
  return readNiftiBytes(file, { name, maxBytes: limitBytes, ...(image ? { image } : {}) });
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
