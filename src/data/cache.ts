// A disk cache of preprocessed samples, one file per image. The key hashes the transform
// configuration with each input file's path, size and modification time, so changing a
// transform or rewriting an image makes a new key and the old entry is no longer read.
//
// File layout: a little-endian u32 header length, the JSON header (field shapes and value
// counts per sample), zero padding to a multiple of 4 bytes, then the float32 values of every
// field of every sample in header order. Files are written to a temporary name and renamed, so
// a reader never sees half a file.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { UserError } from '../errors.js';
import { createLogger } from '../log.js';

const log = createLogger('cache');

/** Format number of the files; a change makes new keys, so old files are never misread. */
const FORMAT_VERSION = 1;

/** The samples of one image: float32 fields with their tensor shapes. */
export interface CachedSample {
  fields: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
  /** The sample's grid as a volume: its shape [x, y, z, ...] and row-major affine. */
  grid: { shape: number[]; affine: number[] };
}

interface Header {
  samples: {
    fields: { name: string; shape: number[]; length: number }[];
    grid: CachedSample['grid'];
  }[];
}

export class TensorCache {
  /** Entries read, and entries looked up but absent, since the cache was created. */
  hits = 0;
  misses = 0;

  constructor(readonly folder: string) {}

  /**
   * Returns the key of the samples made from `files` by `transforms` (any JSON value). It
   * reads each file's size and modification time; a missing file is a UserError.
   */
  static async key(transforms: unknown, files: readonly string[]): Promise<string> {
    const stamps = await Promise.all(
      files.map(async (path) => {
        const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
          throw new UserError(`Image ${path} cannot be read (${error.code ?? error.message}).`);
        });
        return { path, size: info.size, mtimeMs: info.mtimeMs };
      }),
    );
    const text = JSON.stringify({ version: FORMAT_VERSION, transforms, stamps });
    return createHash('sha256').update(text).digest('hex');
  }

  /** Returns the cached samples of `key`, or null when there are none or the file is damaged. */
  async read(key: string): Promise<CachedSample[] | null> {
    const path = this.pathOf(key);
    const bytes = await readFile(path).catch(() => null);
    if (bytes === null) {
      this.misses++;
      return null;
    }
    try {
      const samples = decode(bytes);
      this.hits++;
      return samples;
    } catch (error) {
      log.warn(`cache entry ${path} is damaged (${(error as Error).message}); preprocessing again`);
      this.misses++;
      return null;
    }
  }

  /** Writes the samples of `key`: to a temporary name first, then renamed into place. */
  async write(key: string, samples: readonly CachedSample[]): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    const path = this.pathOf(key);
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, encode(samples));
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new UserError(`Writing cache entry ${path} failed: ${(error as Error).message}`);
    }
  }

  private pathOf(key: string): string {
    return join(this.folder, `${key}.bin`);
  }
}

function encode(samples: readonly CachedSample[]): Uint8Array {
  const header: Header = {
    samples: samples.map((sample) => ({
      fields: Object.entries(sample.fields).map(([name, data]) => ({
        name,
        shape: sample.shapes[name]!,
        length: data.length,
      })),
      grid: sample.grid,
    })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align4(4 + json.length);
  const values = samples.reduce(
    (total, sample) =>
      total + Object.values(sample.fields).reduce((sum, data) => sum + data.length, 0),
    0,
  );
  const bytes = new Uint8Array(dataStart + 4 * values);
  new DataView(bytes.buffer).setUint32(0, json.length, true);
  bytes.set(json, 4);
  const floats = new Float32Array(bytes.buffer, dataStart, values);
  let offset = 0;
  for (const sample of samples) {
    for (const data of Object.values(sample.fields)) {
      floats.set(data, offset);
      offset += data.length;
    }
  }
  return bytes;
}

function decode(bytes: Uint8Array): CachedSample[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + jsonLength))) as Header;
  const dataStart = align4(4 + jsonLength);
  // Copy the values so they start on a 4-byte boundary whatever offset readFile's Buffer has
  // (Buffer's slice() returns a view, so the copy goes through a new Uint8Array).
  const copy = new Uint8Array(bytes.length - dataStart);
  copy.set(bytes.subarray(dataStart));
  const values = new Float32Array(copy.buffer);
  let offset = 0;
  const samples = header.samples.map(({ fields, grid }) => {
    const sample: CachedSample = { fields: {}, shapes: {}, grid };
    for (const { name, shape, length } of fields) {
      if (offset + length > values.length) throw new Error('the file is shorter than its header');
      sample.fields[name] = values.slice(offset, offset + length);
      sample.shapes[name] = shape;
      offset += length;
    }
    return sample;
  });
  if (offset !== values.length) throw new Error('the file is longer than its header');
  return samples;
}

function align4(value: number): number {
  return Math.ceil(value / 4) * 4;
}
