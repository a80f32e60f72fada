// Byte sources for browsers (and any runtime with Blob and DecompressionStream): a Blob, File,
// ArrayBuffer or Uint8Array, inflated as a stream when it is gzip-compressed.

import { Gunzip } from 'fflate';

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

// Compressed bytes handed to fflate per push, which bounds the inflated bytes of one push.
// NOTE: fflate 0.8 does not verify the CRC-32 of the members it inflates, so in browsers the
// checksum is checked for a multi-member file's first member only.
const FFLATE_INPUT_BYTES = 1 << 16;

async function* streamBytes(bytes: NiftiBytes, name: string): AsyncGenerator<Uint8Array> {
  if (!isGzip(await prefix(bytes))) {
    yield* readStream(compressedStream(bytes));
    return;
  }
  // The DOM typings (TypeScript 5.9) type DecompressionStream's input as BufferSource only.
  const inflater = new DecompressionStream('gzip') as unknown as TransformStream<
    Uint8Array,
    Uint8Array
  >;
  let inflatedBytes = 0;
  try {
    for await (const chunk of readStream(compressedStream(bytes).pipeThrough(inflater))) {
      inflatedBytes += chunk.length;
      yield chunk;
    }
  } catch (error) {
    // Chromium 156's DecompressionStream stops with an error after the first member of a
    // multi-member file (bgzip), so fflate inflates the file again and continues from there.
    yield* inflateOtherMembers(bytes, name, inflatedBytes, error);
  }
}

/**
 * Inflates a gzip file with fflate's streaming Gunzip, which reads every member, and yields
 * the inflated bytes after the first `skip`. A file of one member has no other member to
 * read, so the DecompressionStream's `firstError` was a real fault (a truncated stream, a
 * wrong checksum) and is thrown once the stream ends (decodeNifti reads every stream to its
 * end).
 */
async function* inflateOtherMembers(
  bytes: NiftiBytes,
  name: string,
  skip: number,
  firstError: unknown,
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let members = 1;
  const gunzip = new Gunzip((chunk) => pending.push(chunk));
  gunzip.onmember = () => (members += 1);
  let position = 0;
  const drain = function* () {
    for (const chunk of pending) {
      const start = Math.min(chunk.length, Math.max(0, skip - position));
      position += chunk.length;
      if (start < chunk.length) yield chunk.subarray(start);
    }
    pending = [];
  };
  try {
    for await (const chunk of readStream(compressedStream(bytes))) {
      for (let offset = 0; offset < chunk.length; offset += FFLATE_INPUT_BYTES) {
        gunzip.push(chunk.subarray(offset, offset + FFLATE_INPUT_BYTES));
        yield* drain();
      }
    }
    gunzip.push(new Uint8Array(0), true);
    yield* drain();
  } catch (error) {
    throw gzipError(name, members === 1 ? firstError : error);
  }
  if (members === 1) throw gzipError(name, firstError);
}

function compressedStream(bytes: NiftiBytes): ReadableStream<Uint8Array> {
  return bytes instanceof Blob ? bytes.stream() : singleChunkStream(bytes);
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
