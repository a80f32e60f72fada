// Byte sources for browsers (and any runtime with Blob and DecompressionStream): a Blob, File,
// ArrayBuffer or Uint8Array, inflated as a stream when it is gzip-compressed.

import type { Volume } from '../volume.js';
import { decodeNifti, type ReadOptions } from './decode.js';
import { encodeNiftiChunks, type WriteOptions } from './encode.js';
import { type ByteSource, gzipError, isGzip, readStream } from './source.js';

/** Bytes of a file in memory: a Blob (a browser File included), an ArrayBuffer or a view. */
export type NiftiBytes = Blob | ArrayBuffer | Uint8Array;

/** Returns a byte source for in-memory bytes; `name` appears in error messages. */
export function bytesSource(bytes: NiftiBytes, name: string): ByteSource {
  return { name, open: () => streamBytes(bytes, name) };
}

/**
 * Reads a NIfTI or Analyze image from memory. For a .hdr/.img pair, pass the header bytes
 * and the image bytes; `name` defaults to a File's name.
 */
export async function readNiftiBytes(
  bytes: NiftiBytes,
  options: ReadOptions & { name?: string; image?: NiftiBytes } = {},
): Promise<Volume> {
  const name =
    options.name ?? (bytes instanceof Blob && 'name' in bytes ? String(bytes.name) : 'NIfTI data');
  const image =
    options.image === undefined ? undefined : bytesSource(options.image, `${name} (image)`);
  return decodeNifti(bytesSource(bytes, name), options, image);
}

async function* streamBytes(bytes: NiftiBytes, name: string): AsyncGenerator<Uint8Array> {
  const compressed = isGzip(await prefix(bytes));
  const stream = bytes instanceof Blob ? bytes.stream() : singleChunkStream(bytes);
  if (!compressed) {
    yield* readStream(stream);
    return;
  }
  // The DOM typings (TypeScript 5.9) type DecompressionStream's input as BufferSource only.
  const inflater = new DecompressionStream('gzip') as unknown as TransformStream<
    Uint8Array,
    Uint8Array
  >;
  // NOTE: files of several gzip members (bgzip) are tested with Node 20's DecompressionStream
  // only; browsers have not been checked.
  const inflated = stream.pipeThrough(inflater);
  try {
    yield* readStream(inflated);
  } catch (error) {
    throw gzipError(name, error);
  }
}

async function prefix(bytes: NiftiBytes): Promise<Uint8Array> {
  if (bytes instanceof Blob) return new Uint8Array(await bytes.slice(0, 2).arrayBuffer());
  return bytes instanceof Uint8Array
    ? bytes.subarray(0, 2)
    : new Uint8Array(bytes, 0, Math.min(2, bytes.byteLength));
}

function singleChunkStream(bytes: ArrayBuffer | Uint8Array): ReadableStream<Uint8Array> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return new ReadableStream({
    start(controller) {
      controller.enqueue(view);
      controller.close();
    },
  });
}

/**
 * Encodes a volume as a NIfTI-1 Blob for download: .nii bytes, or .nii.gz bytes when
 * `compress` is true (compressed by CompressionStream chunk by chunk).
 */
export async function niftiBlob(
  volume: Volume,
  options: WriteOptions & { compress?: boolean } = {},
): Promise<Blob> {
  // The encoder's chunks are backed by plain ArrayBuffers, as BlobPart requires.
  const chunks = Array.from(encodeNiftiChunks(volume, options)) as BlobPart[];
  const blob = new Blob(chunks);
  if (!options.compress) return blob;
  const compressor = new CompressionStream('gzip') as unknown as TransformStream<
    Uint8Array,
    Uint8Array
  >;
  return new Response(blob.stream().pipeThrough(compressor)).blob();
}
