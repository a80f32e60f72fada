// Header values that nibabel repairs or rejects: voxel sizes of 0 or NaN.

import assert from 'node:assert/strict';
import { describe, it } from 'mocha';

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
