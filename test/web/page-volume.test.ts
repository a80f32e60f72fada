import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { UserError } from '../../src/errors.js';
import { checkPageShape, readPageVolume } from '../../src/web/page-volume.js';

const DATA = '/work/shared/data/nifti';
const blob = (name: string) => new Blob([readFileSync(join(DATA, name))]);

describe('web page volume', () => {
  it('readPageVolume reads a 3D image', async () => {
    const volume = await readPageVolume(blob('minimal.nii.gz'), 'minimal.nii.gz');
    assert.deepEqual(volume.shape.slice(0, 3), [64, 64, 10]);
  });

  it('readPageVolume reads a single 4th dim', async () => {
    const volume = await readPageVolume(blob('little.nii.gz'), 'little.nii.gz');
    assert.deepEqual(volume.shape.slice(0, 3), [64, 64, 21]);
  });

  const rejected: [string, RegExp][] = [
    ['example4d.nii.gz', /^example4d\.nii\.gz contains 2 volumes \(shape \[128, 96, 24, 2\]\)/],
    ['functional.nii', /^functional\.nii contains 20 volumes .* the model takes one 3D volume/],
    ['5D_small.nii', /^5D_small\.nii contains 3 volumes/],
    [
      'ras.hdr',
      /^ras\.hdr is one half of a \.hdr\/\.img pair: choose or drop the \.hdr and the \.img together, or convert the pair to \.nii\.$/,
    ],
    ['air.img.gz', /^air\.img\.gz is one half of a \.hdr\/\.img pair/],
    ['not-nifti.nii', /^not-nifti\.nii is not a NIfTI or Analyze file/],
  ];
  for (const [name, message] of rejected) {
    it(`readPageVolume rejects ${name}`, async () => {
      await assert.rejects(
        readPageVolume(blob(name), name),
        (error: Error) => error instanceof UserError && message.test(error.message),
      );
    });
  }

  it('readPageVolume names an image over the limit', async () => {
    // minimal.nii.gz has 64 * 64 * 10 voxels, 163840 bytes as float32.
    await assert.rejects(
      readPageVolume(blob('minimal.nii.gz'), 'minimal.nii.gz', { limitBytes: 100_000 }),
      /^UserError: minimal\.nii\.gz is too large for the page: its header declares 40960 voxels/,
    );
    const volume = await readPageVolume(blob('minimal.nii.gz'), 'minimal.nii.gz', {
      limitBytes: 163_840,
    });
    assert.equal(volume.data.length, 40_960);
  });

  it('readPageVolume reads a pair', async () => {
    const volume = await readPageVolume(blob('ras.hdr'), 'ras.hdr', { image: blob('ras.img') });
    const expected = JSON.parse(readFileSync(join(DATA, 'reference_nibabel.json'), 'utf8'))[
      'ras.hdr'
    ] as { shape: number[] };
    assert.deepEqual(volume.shape.slice(0, 3), expected.shape.slice(0, 3));
  });

  it('checkPageShape message has no Node option', () => {
    assert.throws(
      () => checkPageShape('big.nii', [1000, 1000, 1000], 2 ** 31),
      (error: Error) =>
        !/maxBytes/.test(error.message) && /too large for the page/.test(error.message),
    );
    assert.doesNotThrow(() => checkPageShape('ok.nii', [10, 10, 10, 1, 1], 4000));
    assert.throws(() => checkPageShape('over.nii', [10, 10, 10], 3999), /too large for the page/);
  });
});
