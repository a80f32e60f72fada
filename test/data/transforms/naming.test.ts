// Names of volumes in messages: a transform's output says which file and operations made it.

import assert from 'node:assert/strict';

import { UserError } from '../../../src/errors.js';
import { reorientToRas } from '../../../src/data/nifti/reorient.js';
import { cropOrPad } from '../../../src/data/transforms/crop.js';
import { zScore } from '../../../src/data/transforms/intensity.js';
import { resampleToSpacing } from '../../../src/data/transforms/resample.js';
import { affineFromRows, volumeName } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { volumeOf, wasmKernels } from './helpers.js';

describe('volume names after transforms', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });

  const file = '/data/ch2.nii.gz';
  // A bright centre in a constant border, so a small central crop is constant.
  const image = (source = file) =>
    volumeOf([6, 6, 6], (i, j, k) => (i < 2 || j < 2 || k < 2 ? 1 : 3), affineFromRows([]), source);

  const cases: [string, () => string, string][] = [
    ['a file as read', () => volumeName(image()), file],
    ['an in-memory volume', () => volumeName(image('')), 'in-memory volume'],
    [
      'one transform',
      () => volumeName(cropOrPad(wasm, image(), [2, 2, 2])),
      `volume derived from ${file} by cropOrPad`,
    ],
    [
      'two transforms',
      () => volumeName(cropOrPad(wasm, resampleToSpacing(wasm, image(), 2), [2, 2, 2])),
      `volume derived from ${file} by resampleToSpacing, then cropOrPad`,
    ],
    [
      'a transformed in-memory volume',
      () => volumeName(cropOrPad(wasm, image(''), [2, 2, 2])),
      'volume derived from an in-memory volume by cropOrPad',
    ],
    [
      'reorientToRas',
      () => volumeName(reorientToRas(image())),
      `volume derived from ${file} by reorientToRas`,
    ],
  ];
  for (const [name, run, expected] of cases) {
    it(`names ${name}`, () => {
      assert.equal(run(), expected);
    });
  }

  it('names the crop in a z-score error', () => {
    assert.throws(
      () => zScore(wasm, cropOrPad(wasm, image(), [2, 2, 2])),
      (error: Error) => {
        assert.ok(error instanceof UserError, `${error.name}: ${error.message}`);
        assert.match(error.message, /^volume derived from \/data\/ch2\.nii\.gz by cropOrPad is/);
        assert.match(error.message, /is constant \(3\)/);
        return true;
      },
    );
  });

  it('leaves the input header unchanged', () => {
    const input = image();
    const output = cropOrPad(wasm, input, [2, 2, 2]);
    assert.deepEqual(input.header.derivedBy, []);
    assert.deepEqual(output.header.derivedBy, ['cropOrPad']);
    assert.equal(output.header.source, file);
  });
});
