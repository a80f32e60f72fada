// Writing .nii and .nii.gz: round trips through the reader, and nibabel reading the written
// files with the same values and affine (live when /usr/bin/python3 has nibabel, otherwise
// against test/fixtures/nifti/roundtrip_nibabel.json and the SHA-256 of the written bytes).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'mocha';

import { DATATYPES } from '../../../src/data/nifti/datatypes.js';
import { encodeNifti, type WriteOptions } from '../../../src/data/nifti/encode.js';
import { readNifti, writeNifti } from '../../../src/data/nifti/node.js';
import { affineFromRows, affineToRows, defaultHeader, Volume } from '../../../src/data/volume.js';
import { UserError } from '../../../src/errors.js';

const FIXTURES = new URL('../../fixtures/nifti/', import.meta.url).pathname;
const SCRIPT = new URL('../../../scripts/fixtures/nifti_roundtrip.py', import.meta.url).pathname;
// NIFTI_TEST_PYTHON=/nonexistent runs the check against the committed readings instead.
const PYTHON = process.env.NIFTI_TEST_PYTHON ?? '/usr/bin/python3';

// An oblique affine that a qform can represent exactly (a rotation about x, then zooms).
const OBLIQUE = affineFromRows([
  [-2, 0, 0, 117.855103],
  [0, 1.973711, -0.355528, -35.722942],
  [0, 0.323208, 2.171082, -7.248798],
]);
const LPI = affineFromRows([
  [-1.5, 0, 0, 40],
  [0, -2, 0, 50],
  [0, 0, -2.5, 60],
]);

function ramp(shape: number[], affine: Float64Array, value: (index: number) => number): Volume {
  const size = shape.reduce((product, extent) => product * extent, 1);
  return new Volume(
    Float32Array.from({ length: size }, (_, index) => value(index)),
    shape,
    affine,
  );
}

function withExtension(volume: Volume): Volume {
  const header = {
    ...defaultHeader(),
    extensions: [{ code: 6, data: new TextEncoder().encode('a comment') }],
  };
  return new Volume(volume.data, volume.shape, volume.affine, header);
}

// [file name, volume, write options]
const cases: [string, Volume, WriteOptions][] = [
  ['float32.nii', ramp([5, 4, 3], OBLIQUE, (i) => Math.fround(i * 0.37 - 4)), {}],
  ['float32.nii.gz', withExtension(ramp([5, 4, 3], LPI, (i) => Math.fround(Math.sin(i)))), {}],
  ['labels.nii.gz', ramp([6, 5, 4], LPI, (i) => i % 7), { datatype: 'uint8' }],
  ['int16.nii', ramp([3, 3, 3, 2], OBLIQUE, (i) => i * 1000 - 30000), { datatype: 'int16' }],
  ['float64.nii', ramp([2, 3, 2, 1, 2], LPI, (i) => Math.fround(i / 3)), { datatype: 'float64' }],
  ['int8.nii', ramp([4, 2, 2], LPI, (i) => i - 8), { datatype: 'int8' }],
  ['uint16.nii', ramp([4, 2, 2], LPI, (i) => i * 4000), { datatype: 'uint16' }],
  ['int32.nii', ramp([4, 2, 2], LPI, (i) => i * 1e6 - 7e6), { datatype: 'int32' }],
  ['uint32.nii', ramp([4, 2, 2], LPI, (i) => i * 2.5e8), { datatype: 'uint32' }],
  ['int64.nii', ramp([4, 2, 2], LPI, (i) => (i - 8) * 2 ** 40), { datatype: 'int64' }],
  ['uint64.nii', ramp([4, 2, 2], LPI, (i) => i * 2 ** 45), { datatype: 'uint64' }],
];

function assertAffineClose(actual: number[][], expected: Float64Array, what: string) {
  const rows = affineToRows(expected);
  actual.forEach((row, r) =>
    row.forEach((value, c) => {
      const difference = Math.abs(value - rows[r]![c]!);
      assert.ok(difference < 1e-5, `${what}[${r}][${c}] is ${value}, expected ${rows[r]![c]}`);
    }),
  );
}

function hasNibabel(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import nibabel'], { stdio: 'ignore' }).status === 0;
}

interface NibabelReading {
  sha256: string;
  shape: number[];
  dtype: string;
  affine: number[][];
  sform: number[][];
  qform: number[][];
  sform_code: number;
  qform_code: number;
  values: number[];
  extension_codes: number[];
}

describe('writeNifti', () => {
  let folder = '';
  let rejected = '';
  before(() => {
    rejected = mkdtempSync(join(tmpdir(), 'nifti-rejected-'));
    const kept = process.env.NIFTI_ROUNDTRIP_DIR;
    if (kept) mkdirSync(kept, { recursive: true });
    folder = kept || mkdtempSync(join(tmpdir(), 'nifti-write-'));
  });
  after(() => {
    rmSync(rejected, { recursive: true, force: true });
    if (!process.env.NIFTI_ROUNDTRIP_DIR) rmSync(folder, { recursive: true, force: true });
  });

  for (const [name, volume, options] of cases) {
    it(`round trips ${name}`, async () => {
      await writeNifti(join(folder, name), volume, options);
      const read = await readNifti(join(folder, name));
      assert.deepEqual(read.shape, volume.shape);
      assert.deepEqual(Array.from(read.data), Array.from(volume.data));
      assertAffineClose(affineToRows(read.affine), volume.affine, 'affine');
      const datatype = [...DATATYPES.values()].find(
        (type) => type.name === (options.datatype ?? 'float32'),
      );
      assert.equal(read.header.datatype, datatype!.code);
      // Extensions come back padded with zeros to a multiple of 16 bytes, as NIfTI stores them.
      assert.equal(read.header.extensions.length, volume.header.extensions.length);
      volume.header.extensions.forEach((extension, index) => {
        const data = read.header.extensions[index]!.data;
        assert.equal(read.header.extensions[index]!.code, extension.code);
        assert.equal((data.length + 8) % 16, 0);
        assert.deepEqual(data.subarray(0, extension.data.length), extension.data);
        assert.ok(data.subarray(extension.data.length).every((byte) => byte === 0));
      });
    });
  }

  it('leaves no temporary files', () => {
    const names = readdirSync(folder).sort();
    assert.deepEqual(names, cases.map(([name]) => name).sort());
  });

  it('is read by nibabel alike', function () {
    const expected = JSON.parse(
      readFileSync(`${FIXTURES}roundtrip_nibabel.json`, 'utf8'),
    ) as Record<string, NibabelReading>;
    let readings = expected;
    if (hasNibabel()) {
      const paths = cases.map(([name]) => join(folder, name));
      const run = spawnSync(PYTHON, [SCRIPT, 'read', ...paths], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      readings = JSON.parse(run.stdout) as Record<string, NibabelReading>;
    }
    for (const [name, volume] of cases) {
      const reading = readings[name]!;
      let bytes = readFileSync(join(folder, name));
      if (name.endsWith('.gz')) bytes = gunzipSync(bytes);
      const digest = createHash('sha256').update(bytes).digest('hex');
      assert.equal(
        digest,
        expected[name]!.sha256,
        `${name} differs from the bytes nibabel read; regenerate roundtrip_nibabel.json`,
      );
      assert.deepEqual(reading.shape, volume.shape);
      assert.deepEqual(reading.values, Array.from(volume.data));
      assertAffineClose(reading.affine, volume.affine, `${name} affine`);
      assertAffineClose(reading.sform, volume.affine, `${name} sform`);
      assertAffineClose(reading.qform, volume.affine, `${name} qform`);
      assert.equal(reading.sform_code, 1);
      assert.equal(reading.qform_code, 1);
      assert.deepEqual(
        reading.extension_codes,
        volume.header.extensions.map((extension) => extension.code),
      );
    }
  });

  it('keeps transform codes from the header', async () => {
    const volume = ramp([2, 2, 2], LPI, (i) => i);
    volume.header = { ...volume.header, sformCode: 4, qformCode: 0 };
    const bytes = encodeNifti(volume);
    const view = new DataView(bytes.buffer);
    assert.equal(view.getInt16(252, true), 4);
    assert.equal(view.getInt16(254, true), 4);
  });

  const invalid: [string, Volume, WriteOptions, string, RegExp][] = [
    [
      'a fraction as uint8',
      ramp([2, 2, 2], LPI, (i) => i / 2),
      { datatype: 'uint8' },
      'half.nii',
      /as uint8: voxel 1 is 0\.5, which is not an integer in \[0, 255\]/,
    ],
    [
      '300 as uint8',
      ramp([2, 2, 2], LPI, (i) => i * 50),
      { datatype: 'uint8' },
      'big.nii.gz',
      /voxel 6 is 300, which is not an integer in \[0, 255\]/,
    ],
    [
      '-1 as uint16',
      ramp([2, 2, 2], LPI, (i) => i - 1),
      { datatype: 'uint16' },
      'negative.nii',
      /voxel 0 is -1, which is not an integer in \[0, 65535\]/,
    ],
    [
      'an unknown datatype',
      ramp([2, 2, 2], LPI, (i) => i),
      { datatype: 'complex64' as 'uint8' },
      'complex.nii',
      /Cannot write datatype 'complex64': expected one of uint8, int8/,
    ],
    [
      'an axis over 32767',
      ramp([32768, 1, 1], LPI, () => 0),
      {},
      'long.nii',
      /as NIfTI-1: axis 0 has 32768 voxels, above the format's limit of 32767 per axis/,
    ],
    [
      'a .img name',
      ramp([2, 2, 2], LPI, (i) => i),
      {},
      'image.img',
      /Cannot write '.*image\.img': the name must end in \.nii or \.nii\.gz/,
    ],
  ];
  for (const [name, volume, options, fileName, message] of invalid) {
    it(`rejects ${name}`, async () => {
      const path = join(rejected, fileName);
      await assert.rejects(writeNifti(path, volume, options), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, message);
        return true;
      });
      assert.deepEqual(readdirSync(rejected), []);
    });
  }

  it('keeps the old file when a write fails', async () => {
    const path = join(rejected, 'kept.nii');
    const original = ramp([2, 2, 2], LPI, (i) => i);
    await writeNifti(path, original, { datatype: 'uint8' });
    const before = readFileSync(path);
    await assert.rejects(
      writeNifti(
        path,
        ramp([2, 2, 2], LPI, () => 0.5),
        { datatype: 'uint8' },
      ),
    );
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(rejected), ['kept.nii']);
    rmSync(path);
  });

  it('rejects a missing folder', async () => {
    const path = join(folder, 'absent', 'volume.nii');
    await assert.rejects(
      writeNifti(
        path,
        ramp([2, 2, 2], LPI, (i) => i),
      ),
      /Cannot write '.*absent\/volume\.nii': ENOENT/,
    );
  });
});
