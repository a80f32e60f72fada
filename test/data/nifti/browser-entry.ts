// The page script of the browser test: decodes NIfTI bytes with the browser-safe module and
// reports what it got, for comparison with the Node reader.

import { niftiBlob, readNiftiBytes } from '../../../src/data/nifti/index.js';
import { digestOf } from './digest.js';

/** A decoded volume as the page reports it, or the error message. */
export interface BrowserReading {
  shape?: number[];
  affine?: number[];
  digest?: string;
  error?: string;
}

function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
}

async function decode(base64: string, name: string, imageBase64?: string): Promise<BrowserReading> {
  try {
    const blob = new Blob([bytesOf(base64)]);
    const image = imageBase64 === undefined ? undefined : new Blob([bytesOf(imageBase64)]);
    const volume = await readNiftiBytes(blob, { name, image });
    return {
      shape: [...volume.shape],
      affine: Array.from(volume.affine),
      digest: digestOf(volume.data),
    };
  } catch (error) {
    return { error: String(error) };
  }
}

// Decodes, encodes as .nii.gz with CompressionStream, and decodes that again.
async function roundTrip(base64: string, name: string): Promise<BrowserReading> {
  const volume = await readNiftiBytes(new Blob([bytesOf(base64)]), { name });
  const blob = await niftiBlob(volume, { compress: true });
  const again = await readNiftiBytes(blob, { name: `${name} (written)` });
  return {
    shape: [...again.shape],
    affine: Array.from(again.affine),
    digest: digestOf(again.data),
  };
}

const api = { decode, roundTrip };
export type NiftiPageApi = typeof api;
(globalThis as unknown as { niftiPage: NiftiPageApi }).niftiPage = api;
