// Byte sources: the browser path (Blob, ArrayBuffer, DecompressionStream) decodes exactly as
// the Node path (file, zlib), and gzip is inflated in bounded chunks rather than whole.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'mocha';

import { decodeNifti } from '../../../src/data/nifti/decode.js';
import { fileSource, readNifti } from '../../../src/data/nifti/node.js';
import { type ByteSource, ChunkReader, isGzip } from '../../../src/data/nifti/source.js';
import { niftiBlob, readNiftiBytes } from '../../../src/data/nifti/web.js';
import { affineFromRows, Volume } from '../../../src/data/volume.js';
import { UserError } from '../../../src/errors.js';
import { buildNifti } from './build.js';

const FIXTURES = new URL('../../fixtures/nifti/', import.meta.url).pathname;

async function* chunksOf(...parts: number[][]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield Uint8Array.from(part);
}

describe('browser byte sources', () => {
  const files = [
    'someones_anatomy.nii.gz',
    'functional.nii',
    'big.nii.gz',
    'example_nifti2.nii.gz',
  ];
  for (const name of files) {
    it(`decodes ${name} as the Node path does`, async () => {
      const expected = await readNifti(`${FIXTURES}${name}`);
      const bytes = readFileSync(`${FIXTURES}${name}`);
      const inputs = [
        new Blob([bytes]),
        new Uint8Array(bytes),
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      ];
      for (const input of inputs) {
        const volume = await readNiftiBytes(input, { name });
        assert.deepEqual(volume.shape, expected.shape);
        assert.deepEqual(volume.affine, expected.affine);
        assert.deepEqual(volume.data, expected.data);
        assert.equal(volume.header.extensions.length, expected.header.extensions.length);
      }
    });
  }

  it('decodes a gzipped pair from blobs', async () => {
    const expected = await readNifti(`${FIXTURES}air.hdr.gz`);
    const header = new Blob([readFileSync(`${FIXTURES}air.hdr.gz`)]);
    const image = new Blob([readFileSync(`${FIXTURES}air.img.gz`)]);
    const volume = await readNiftiBytes(header, { name: 'air.hdr.gz', image });
    assert.deepEqual(volume.data, expected.data);
    assert.deepEqual(volume.affine, expected.affine);
  });

  it('names a File in messages', async () => {
    const file = new File([new Uint8Array(3)], 'upload.nii');
    await assert.rejects(readNiftiBytes(file), /^UserError: upload\.nii: the file has 3 byte/);
  });

  it('rejects a wrong gzip checksum', async () => {
    const compressed = Uint8Array.from(readFileSync(`${FIXTURES}someones_anatomy.nii.gz`));
    compressed[compressed.length - 8]! ^= 0xff;
    const read = readNiftiBytes(compressed, { name: 'checksum.nii.gz' });
    await assert.rejects(read, /^UserError: checksum\.nii\.gz: the gzip stream is truncated or/);
  });

  it('rejects a cut gzip stream', async () => {
    const gz = gzipSync(
      buildNifti({ shape: [8, 8, 8], datatype: 2, bitpix: 8, values: new Array(512).fill(7) }),
    );
    await assert.rejects(
      readNiftiBytes(gz.subarray(0, gz.length - 20), { name: 'cut.nii.gz' }),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /^cut\.nii\.gz: the gzip stream is truncated or corrupt \(/);
        return true;
      },
    );
  });
});

describe('niftiBlob', () => {
  const affine = affineFromRows([
    [0, 0, 2, -10],
    [-1.5, 0, 0, 20],
    [0, 3, 0, -30],
  ]);
  const volume = new Volume(
    Float32Array.from({ length: 60 }, (_, i) => i * 0.25),
    [5, 4, 3],
    affine,
  );

  for (const compress of [false, true]) {
    it(`encodes ${compress ? '.nii.gz' : '.nii'} bytes`, async () => {
      const blob = await niftiBlob(volume, { compress });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      assert.equal(isGzip(bytes), compress);
      const read = await readNiftiBytes(blob, { name: 'download.nii' });
      assert.deepEqual(read.data, volume.data);
      assert.deepEqual(read.shape, [5, 4, 3]);
      assert.ok(read.affine.every((value, index) => Math.abs(value - affine[index]!) < 1e-6));
    });
  }
});

describe('gzip streaming', () => {
  let folder = '';
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'nifti-stream-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('inflates a multi-member gzip file', async () => {
    // bgzip and other block compressors write one gzip member after another.
    const values = Array.from({ length: 512 }, (_, index) => index % 200);
    const bytes = buildNifti({ shape: [8, 8, 8], datatype: 2, bitpix: 8, values });
    const members = Buffer.concat([
      gzipSync(bytes.subarray(0, 400)),
      gzipSync(bytes.subarray(400)),
    ]);
    const path = join(folder, 'members.nii.gz');
    writeFileSync(path, members);
    const fromFile = await readNifti(path);
    const fromBytes = await readNiftiBytes(members, { name: 'members.nii.gz' });
    assert.deepEqual(Array.from(fromFile.data), values);
    assert.deepEqual(Array.from(fromBytes.data), values);
  });

  it('inflates a 200:1 file in bounded chunks', async () => {
    // 16 MiB of float32 that compresses far beyond 200:1: only the last plane is non-zero.
    const shape = [128, 128, 256];
    const values = new Array(128 * 128 * 256).fill(0);
    for (let i = 0; i < 128 * 128; i++) values[values.length - 1 - i] = i % 13;
    const compressed = gzipSync(buildNifti({ shape, datatype: 16, bitpix: 32, values }));
    const inflatedSize = 352 + values.length * 4;
    assert.ok(inflatedSize / compressed.length > 200, `ratio ${inflatedSize / compressed.length}`);
    const path = join(folder, 'sparse.nii.gz');
    writeFileSync(path, compressed);

    const chunkSizes: number[] = [];
    const source = fileSource(path);
    const recording: ByteSource = {
      name: source.name,
      async *open() {
        for await (const chunk of source.open()) {
          chunkSizes.push(chunk.length);
          yield chunk;
        }
      },
    };
    const volume = await decodeNifti(recording);
    assert.equal(
      chunkSizes.reduce((sum, size) => sum + size, 0),
      inflatedSize,
    );
    assert.ok(Math.max(...chunkSizes) <= 1 << 18, `largest chunk ${Math.max(...chunkSizes)}`);
    assert.ok(chunkSizes.length >= inflatedSize / (1 << 18));
    assert.equal(volume.get(127, 127, 255), 0);
    assert.equal(volume.get(126, 127, 255), 1);
    assert.equal(volume.get(0, 0, 0), 0);
  });
});

describe('ChunkReader', () => {
  it('reads across chunk boundaries', async () => {
    const reader = new ChunkReader(chunksOf([1, 2], [3], [4, 5, 6], [7]));
    assert.deepEqual(Array.from(await reader.read(4)), [1, 2, 3, 4]);
    assert.equal(await reader.skip(1), 1);
    assert.deepEqual(Array.from((await reader.nextChunk())!), [6]);
    assert.deepEqual(Array.from(await reader.read(5)), [7]);
    assert.equal(await reader.nextChunk(), null);
  });

  it('splits voxels across chunks', async () => {
    const bytes = buildNifti({
      shape: [3, 1, 1],
      datatype: 64,
      bitpix: 64,
      values: [1.5, -2.25, 1e10],
    });
    const parts = Array.from({ length: bytes.length }, (_, index) => [bytes[index]!]);
    const source: ByteSource = { name: 'bytes.nii', open: () => chunksOf(...parts) };
    const volume = await decodeNifti(source);
    assert.deepEqual(Array.from(volume.data), [1.5, -2.25, 1e10]);
  });

  const gzipCases: [number[], boolean][] = [
    [[0x1f, 0x8b, 8], true],
    [[0x1f, 0x00], false],
    [[0x00, 0x8b], false],
    [[0x1f], false],
  ];
  for (const [bytes, expected] of gzipCases) {
    it(`detects gzip in ${bytes.map((byte) => byte.toString(16)).join(' ')}`, () => {
      assert.equal(isGzip(Uint8Array.from(bytes)), expected);
    });
  }
});
