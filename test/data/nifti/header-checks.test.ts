// Header values that nibabel repairs or rejects (voxel sizes of 0 or NaN, quaternions longer
// than 1), and declared image sizes past the maxBytes limit.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'mocha';

import { UserError } from '../../../src/errors.js';
import { QUATERNION_ROUNDING, qformAffine } from '../../../src/data/nifti/affine.js';
import { DEFAULT_MAX_BYTES } from '../../../src/data/nifti/decode.js';
import { readNifti } from '../../../src/data/nifti/node.js';
import { readNiftiBytes } from '../../../src/data/nifti/web.js';
import { affineToRows } from '../../../src/data/volume.js';
import { buildNifti, type BuildOptions, captureLog } from './build.js';

function read(options: Partial<BuildOptions>) {
  const full: BuildOptions = {
    shape: [4, 5, 6],
    datatype: 16,
    bitpix: 32,
    values: new Array(120).fill(0),
    ...options,
  };
  return captureLog(() => readNiftiBytes(buildNifti(full), { name: 'sub-01.nii' }));
}

describe('decodeNifti voxel sizes', () => {
  // [name, header fields, diagonal of the affine, pixdim[1..3] named in the warning]
  const cases: [string, Partial<BuildOptions>, number[], string][] = [
    ['zero pixdim without transforms', { pixdim: [0, 0, 0, 0, 1, 1, 1, 1] }, [-1, 1, 1], '0, 0, 0'],
    ['one zero pixdim', { pixdim: [0, 2, 0, 4, 1, 1, 1, 1] }, [-2, 1, 4], '2, 0, 4'],
    ['NaN pixdim', { pixdim: [0, NaN, 3, Infinity, 1, 1, 1, 1] }, [-1, 3, 1], 'NaN, 3, Infinity'],
    [
      'zero pixdim with a qform',
      { qformCode: 1, quatern: [0, 0, 0], pixdim: [1, 0, 0, 0, 1, 1, 1, 1] },
      [1, 1, 1],
      '0, 0, 0',
    ],
  ];
  for (const [name, options, diagonal, stored] of cases) {
    it(`reads ${name} as 1 mm`, async () => {
      const { result: volume, messages } = await read(options);
      const rows = affineToRows(volume.affine);
      assert.deepEqual([rows[0]![0], rows[1]![1], rows[2]![2]], diagonal);
      assert.equal(messages.length, 1);
      assert.match(messages[0]!, /^warn nifti: sub-01\.nii: pixdim\[1\.\.3\] is \[/);
      assert.ok(messages[0]!.includes(`[${stored}]`), messages[0]);
      assert.match(messages[0]!, /must be non-zero and finite, so they were read as \[/);
    });
  }

  it('keeps valid pixdim without a warning', async () => {
    const { result: volume, messages } = await read({ pixdim: [0, 2, 3, 4, 1, 1, 1, 1] });
    assert.deepEqual(volume.spacing, [2, 3, 4]);
    assert.deepEqual(messages, []);
  });

  it('ignores pixdim when the sform is set', async () => {
    const srow = [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0];
    const { result: volume, messages } = await read({
      sformCode: 1,
      srow,
      pixdim: [0, 0, 0, 0, 1, 1, 1, 1],
    });
    assert.deepEqual(volume.spacing, [2, 2, 2]);
    assert.deepEqual(messages, []);
  });
});

describe('decodeNifti qform quaternion', () => {
  const qform = (quatern: [number, number, number]) =>
    read({ qformCode: 1, quatern, pixdim: [1, 1, 1, 1, 1, 1, 1, 1] });

  // [name, (b, c, d), b² + c² + d² shown in the message]
  const invalid: [string, [number, number, number], string][] = [
    ['(1, 1, 1)', [1, 1, 1], '= 3,'],
    ['(0.6, 0.6, 0.6)', [0.6, 0.6, 0.6], '= 1.08'],
    ['(0, 0, 1.001)', [0, 0, 1.001], '= 1.002'],
    ['NaN', [NaN, 0, 0], '= NaN,'],
  ];
  for (const [name, quatern, squared] of invalid) {
    it(`rejects ${name}`, async () => {
      await assert.rejects(qform(quatern), (error: Error) => {
        assert.ok(error instanceof UserError, `${error.name}: ${error.message}`);
        assert.match(error.message, /^sub-01\.nii: the qform quaternion \(quatern_b/);
        assert.ok(error.message.includes(squared), error.message);
        assert.match(error.message, /at most 1/);
        return true;
      });
    });
  }

  // Each is a unit quaternion whose float32 rounding pushes b² + c² + d² just past 1.
  const rounded: [string, [number, number, number], number[]][] = [
    ['(0, 0, 1.0000001)', [0, 0, 1.0000001], [-1, -1, 1]],
    ['(1.0000001, 0, 0)', [1.0000001, 0, 0], [1, -1, -1]],
  ];
  for (const [name, quatern, diagonal] of rounded) {
    it(`clamps rounded ${name}`, async () => {
      const { result: volume } = await qform(quatern);
      const rows = affineToRows(volume.affine);
      const found = [rows[0]![0]!, rows[1]![1]!, rows[2]![2]!];
      found.forEach((value, axis) => assert.ok(Math.abs(value - diagonal[axis]!) < 1e-6));
    });
  }

  it('accepts an excess up to the rounding limit', () => {
    const d = Math.sqrt(1 + QUATERNION_ROUNDING * 0.99);
    const affine = qformAffine([0, 0, d], [0, 0, 0], [1, 1, 1], 1);
    assert.ok(Math.abs(affine[0]! + 1) < 1e-12, `affine[0] = ${affine[0]}`);
  });

  it('rejects an excess past the limit', () => {
    const d = Math.sqrt(1 + QUATERNION_ROUNDING * 1.01);
    assert.throws(
      () => qformAffine([0, 0, d], [0, 0, 0], [1, 1, 1], 1),
      /^UserError: NIfTI header/,
    );
  });
});

describe('decodeNifti size limit', () => {
  // A header of `shape` followed by `dataBytes` zero bytes, far fewer than the header declares.
  const file = (shape: number[], datatype: number, bitpix: number, dataBytes: number) => {
    const bytes = buildNifti({ shape, datatype, bitpix, values: [] });
    const out = new Uint8Array(bytes.length + dataBytes);
    out.set(bytes);
    return out;
  };

  it('rejects a gzip bomb before inflating', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'nifti-limit-'));
    try {
      const path = join(folder, 'bomb.nii.gz');
      writeFileSync(path, gzipSync(file([1024, 1024, 1024], 16, 32, 4 << 20)));
      const start = performance.now();
      await assert.rejects(readNifti(path), (error: Error) => {
        assert.ok(error instanceof UserError, `${error.name}: ${error.message}`);
        assert.ok(error.message.startsWith(`${path}: the header dims [1024, 1024, 1024]`));
        assert.match(error.message, /declare 1073741824 voxels, 4294967296 bytes as float32/);
        assert.match(error.message, new RegExp(`limit of ${DEFAULT_MAX_BYTES} bytes`));
        assert.match(error.message, /larger maxBytes/);
        return true;
      });
      assert.ok(performance.now() - start < 1000, 'reads only the header');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  // [name, shape, datatype, bitpix, maxBytes, accepted]
  const cases: [string, number[], number, number, number | undefined, boolean][] = [
    ['uint8 declaring 4 GiB as float32', [1024, 1024, 1024], 2, 8, undefined, false],
    ['float32 just past the default limit', [1024, 1024, 513], 16, 32, undefined, false],
    ['8^3 float32 at maxBytes 2048', [8, 8, 8], 16, 32, 2048, true],
    ['8^3 float32 past maxBytes 2047', [8, 8, 8], 16, 32, 2047, false],
    ['8^3 uint8 past maxBytes 2047', [8, 8, 8], 2, 8, 2047, false],
    ['8^3 float32 at maxBytes Infinity', [8, 8, 8], 16, 32, Infinity, true],
  ];
  for (const [name, shape, datatype, bitpix, maxBytes, accepted] of cases) {
    it(`${accepted ? 'accepts' : 'rejects'} ${name}`, async () => {
      const voxels = shape.reduce((product, size) => product * size, 1);
      // A rejected large image needs no data, because the header alone is checked.
      const dataBytes = voxels <= 512 ? (voxels * bitpix) / 8 : 16;
      const read = readNiftiBytes(file(shape, datatype, bitpix, dataBytes), {
        name: 'big.nii',
        maxBytes,
      });
      if (accepted) {
        assert.deepEqual((await read).shape, shape);
        return;
      }
      await assert.rejects(read, (error: Error) => {
        assert.ok(error instanceof UserError, `${error.name}: ${error.message}`);
        assert.match(error.message, /^big\.nii: the header dims/);
        assert.match(error.message, /limit of \d+ bytes \(option maxBytes\)/);
        return true;
      });
    });
  }

  for (const maxBytes of [0, -1, NaN, '1e9']) {
    it(`rejects maxBytes ${String(maxBytes)}`, async () => {
      const bytes = file([2, 2, 2], 16, 32, 32);
      const options = { name: 'small.nii', maxBytes: maxBytes as number };
      await assert.rejects(readNiftiBytes(bytes, options), /^UserError: maxBytes is /);
    });
  }
});
