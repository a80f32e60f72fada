// Header values that nibabel repairs or rejects: voxel sizes of 0 or NaN, and quaternions
// longer than 1.

import assert from 'node:assert/strict';
import { describe, it } from 'mocha';

import { UserError } from '../../../src/errors.js';
import { QUATERNION_ROUNDING, qformAffine } from '../../../src/data/nifti/affine.js';
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
