// Reading and writing NIfTI files in Node: file paths, gzip through zlib streams, .hdr/.img
// pairs found next to each other, and writes that go to a temporary name and are renamed.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

import { UserError } from '../../errors.js';
import type { Volume } from '../volume.js';
import { decodeNifti, decodeNiftiHeader, type ReadOptions, type VolumeInfo } from './decode.js';
import { encodeNiftiChunks, type WriteOptions } from './encode.js';
import { type ByteSource, gzipError, isGzip } from './source.js';

// Sizes of the chunks read from disk and produced by the inflater.
const FILE_CHUNK_BYTES = 1 << 20;
const INFLATE_CHUNK_BYTES = 1 << 18;

/**
 * Reads a NIfTI-1, NIfTI-2 or Analyze 7.5 file: .nii, .nii.gz, or a .hdr/.img pair (each
 * possibly gzipped) named by either of its files.
 */
export async function readNifti(path: string, options: ReadOptions = {}): Promise<Volume> {
  const pair = pairPaths(path);
  if (pair === null) return decodeNifti(fileSource(path), options);
  const [headerPath, imagePath] = await Promise.all(pair.map(firstExisting));
  return decodeNifti(fileSource(headerPath), options, fileSource(imagePath));
}

/** Reads only the header of a NIfTI or Analyze file: its shape, affine and header fields. */
export async function readNiftiHeader(path: string): Promise<VolumeInfo> {
  const pair = pairPaths(path);
  if (pair === null) return decodeNiftiHeader(fileSource(path));
  return decodeNiftiHeader(fileSource(await firstExisting(pair[0])), true);
}

/** Returns a byte source for a file, inflated as a stream when it is gzip-compressed. */
export function fileSource(path: string): ByteSource {
  return { name: path, open: () => streamFile(path) };
}

async function* streamFile(path: string): AsyncGenerator<Uint8Array> {
  const compressed = isGzip(await readPrefix(path, 2));
  const file = createReadStream(path, { highWaterMark: FILE_CHUNK_BYTES });
  if (!compressed) {
    try {
      for await (const chunk of file) yield asUint8Array(chunk as Buffer);
    } catch (error) {
      throw fileError(path, error);
    } finally {
      file.destroy();
    }
    return;
  }
  const inflater = createGunzip({ chunkSize: INFLATE_CHUNK_BYTES });
  file.on('error', (error) => inflater.destroy(error));
  file.pipe(inflater);
  try {
    for await (const chunk of inflater) yield asUint8Array(chunk as Buffer);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).syscall !== undefined) throw fileError(path, error);
    throw gzipError(path, error);
  } finally {
    file.destroy();
    inflater.destroy();
  }
}

// A Buffer's slice() shares memory, unlike Uint8Array's, so the decoder gets plain views.
function asUint8Array(chunk: Buffer): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function readPrefix(path: string, length: number): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    throw fileError(path, error);
  } finally {
    await handle?.close();
  }
}

function fileError(path: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`${path}: file not found.`);
  if (code === 'EISDIR') return new UserError(`${path} is a directory, not a NIfTI file.`);
  return new UserError(`${path}: the file could not be read (${(error as Error).message}).`);
}

// A .hdr or .img name (optionally .gz) gives the candidate header and image paths. Each is
// tried with and without .gz, the named file's compression first. Any other name is a single
// file, so this returns null.
function pairPaths(path: string): [string[], string[]] | null {
  const match = /^(.*)\.(hdr|img)(\.gz)?$/i.exec(path);
  if (match === null) return null;
  const [, stem, kind, gz] = match;
  const upper = kind === kind!.toUpperCase();
  const names = (extension: string) => {
    const base = `${stem}.${upper ? extension.toUpperCase() : extension}`;
    return gz ? [`${base}.gz`, base] : [base, `${base}.gz`];
  };
  return [names('hdr'), names('img')];
}

async function firstExisting(candidates: string[]): Promise<string> {
  for (const candidate of candidates) {
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  throw new UserError(
    `${candidates[0]}: file not found (also tried ${candidates.slice(1).join(', ')}); ` +
      'a .hdr/.img pair needs both files in the same folder.',
  );
}

export interface FileWriteOptions extends WriteOptions {
  /** zlib level for .nii.gz, 0 (none, fastest) to 9 (smallest); default 6, zlib's default. */
  compressionLevel?: number;
}

/**
 * Writes a volume as NIfTI-1: .nii, or .nii.gz compressed with zlib. The file is written to a
 * temporary name in the same folder, flushed to disk, then renamed, so a crash never leaves a
 * partly written file under `path`.
 */
export async function writeNifti(
  path: string,
  volume: Volume,
  options: FileWriteOptions = {},
): Promise<void> {
  const lower = path.toLowerCase();
  const compress = lower.endsWith('.nii.gz');
  if (!compress && !lower.endsWith('.nii')) {
    throw new UserError(`Cannot write '${path}': the name must end in .nii or .nii.gz.`);
  }
  const level = options.compressionLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new UserError(`compressionLevel is ${level}; expected an integer from 0 to 9.`);
  }
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const temporary = join(dirname(path), `.${basename(path)}.${suffix}`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      const chunks = Readable.from(encodeNiftiChunks(volume, options));
      const sink = async (source: AsyncIterable<Uint8Array>) => {
        for await (const chunk of source) await handle.write(chunk);
      };
      if (compress) await pipeline(chunks, createGzip({ level }), sink);
      else await pipeline(chunks, sink);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof UserError) throw error;
    throw new UserError(`Cannot write '${path}': ${(error as Error).message}`);
  }
}
