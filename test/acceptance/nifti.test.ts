// Acceptance tests of NIfTI reading and writing on real and damaged files, as a user meets them:
// Colin27 from mricron-data, copies of it cut short or altered, and odd headers.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { UserError } from '../../src/errors.js';
import { readNifti, writeNifti } from '../../src/data/nifti/node.js';

const COLIN = '/usr/share/mricron/templates/ch2.nii.gz';
const HEADER_BYTES = 352;

/** Returns a NIfTI-1 header of a float32 image of `dims` with vox_offset 352. */
function header(dims: number[], edit: (view: DataView) => void = () => {}): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  view.setInt16(40, dims.length, true);
  dims.forEach((size, axis) => view.setInt16(42 + 2 * axis, size, true));
  view.setInt16(70, 16, true);
  view.setInt16(72, 32, true);
  for (let axis = 0; axis < 4; axis++) view.setFloat32(76 + 4 * axis, 1, true);
  view.setFloat32(108, HEADER_BYTES, true);
  view.setFloat32(112, 1, true);
  bytes.set(new TextEncoder().encode('n+1\0'), 344);
  edit(view);
  return bytes;
}

const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

describe('acceptance: NIfTI files a user has', function () {
  this.timeout(20_000);
  let folder: string;
  let colin: Uint8Array;

  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'acceptance-nifti-'));
    colin = gunzipSync(readFileSync(COLIN));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  const write = (name: string, bytes: Uint8Array) => {
    const path = join(folder, name);
    writeFileSync(path, bytes);
    return path;
  };

  const damaged: [string, () => string, RegExp][] = [
    [
      'a .nii cut in half',
      () => write('half.nii', colin.subarray(0, colin.length / 2)),
      /is truncated/,
    ],
    [
      'a header cut short',
      () => write('head.nii', colin.subarray(0, 200)),
      /inside its 348-byte header/,
    ],
    [
      'a .nii.gz cut in half',
      () => write('half.nii.gz', readFileSync(COLIN).subarray(0, 1_000_000)),
      /gzip stream is truncated or corrupt/,
    ],
    [
      'a .nii.gz with a wrong checksum',
      () => {
        const bytes = Buffer.from(readFileSync(COLIN));
        bytes[bytes.length - 8]! ^= 0xff;
        return write('crc.nii.gz', bytes);
      },
      /gzip stream is truncated or corrupt/,
    ],
    ['an empty file', () => write('empty.nii', new Uint8Array(0)), /0 byte\(s\)/],
    [
      'a text file',
      () => write('notes.nii', Buffer.from('subject,age\n1,70\n'.repeat(30))),
      /not a NIfTI/,
    ],
    [
      'dims larger than the data',
      () => write('short.nii', concat(header([100, 100, 100]), new Uint8Array(4 * 64 ** 3))),
      /contains 1048576 of the 4000000 image bytes/,
    ],
    [
      'a negative dim',
      () => write('negative.nii', concat(header([-4, 4, 4]), new Uint8Array(256))),
      /dim\[1\] is -4/,
    ],
    [
      'a .hdr without its .img',
      () => write('alone.hdr', header([4, 4, 4]).subarray(0, 348)),
      /alone\.img: file not found/,
    ],
  ];

  for (const [name, make, message] of damaged) {
    it(`rejects ${name}`, async () => {
      const path = make();
      await assert.rejects(readNifti(path), (error: Error) => {
        assert.ok(error instanceof UserError, `${error.name}: ${error.message}`);
        assert.ok(error.message.includes(folder), `names the file: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('stops inflating after the image of a gzip bomb', async () => {
    const image = concat(header([8, 8, 8]), new Uint8Array(4 * 512).fill(0));
    const trailing = Buffer.alloc(1 << 26);
    const path = write('bomb.nii.gz', gzipSync(concat(image, trailing), { level: 9 }));
    const start = performance.now();
    const volume = await readNifti(path);
    assert.deepEqual(volume.shape, [8, 8, 8]);
    assert.ok(performance.now() - start < 2000, 'reads only what the header needs');
  });

  it('reads gzip content behind a .nii name', async () => {
    const volume = await readNifti(write('colin.nii', readFileSync(COLIN)));
    assert.deepEqual(volume.shape, [181, 217, 181]);
  });

  it('writes Colin27 that reads back equal', async () => {
    const original = await readNifti(COLIN);
    const path = join(folder, 'copy.nii.gz');
    await writeNifti(path, original);
    const copy = await readNifti(path);
    assert.deepEqual(copy.shape, original.shape);
    assert.deepEqual(Array.from(copy.affine), Array.from(original.affine));
    assert.ok(copy.data.every((value, index) => value === original.data[index]));
  });
});

// A header with pixdim 0 and no sform or qform once gave an all-zero affine without a warning,
// so later steps failed far from the cause. nibabel warns and uses 1 mm for those axes.
describe('acceptance: zero pixdim', () => {
  it('reads a zero pixdim as 1 mm like nibabel', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'acceptance-pixdim-'));
    try {
      const bytes = header([4, 4, 4], (view) => {
        for (let axis = 1; axis < 4; axis++) view.setFloat32(76 + 4 * axis, 0, true);
      });
      const path = join(folder, 'zero.nii');
      writeFileSync(path, concat(bytes, new Uint8Array(256)));
      const volume = await readNifti(path);
      assert.deepEqual(volume.spacing, [1, 1, 1]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
