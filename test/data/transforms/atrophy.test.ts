import assert from 'node:assert/strict';

import { atrophy } from '../../../src/data/transforms/atrophy.js';
import { gaussianWeights } from '../../../src/data/transforms/smooth.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { assertClose, reference, volumeOf, wasmKernels } from './helpers.js';

describe('atrophy', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });
  const image = volumeOf([24, 12, 10], () => 100, undefined, 'T1.nii.gz');
  // Label 3 covers x in [0, 3], region 7 covers x in [4, 11], and the rest is background.
  const labelAt = (i: number): number => {
    if (i < 4) return 3;
    if (i < 12) return 7;
    return 0;
  };
  const atlas = volumeOf([24, 12, 10], labelAt, undefined, 'atlas.nii.gz');

  it('darkens the region core by the factor', () => {
    const result = atrophy(wasm, image, atlas, { labels: [7], factor: 0.3, sigmaMm: 1 });
    // At x = 8 the 9-tap kernel reaches x = 12, outside the region, by its last weight; the y
    // and z borders reflect, so that weight is all the smoothed mask loses.
    const mask = 1 - gaussianWeights(1)![8]!;
    assert.ok(
      Math.abs(result.get(8, 6, 5) - 100 * (1 - 0.3 * mask)) < 1e-3,
      `core ${result.get(8, 6, 5)}`,
    );
    assert.equal(result.get(20, 6, 5), 100);
    const border = result.get(4, 6, 5);
    assert.ok(border > 70, `border ${border}`);
    assert.ok(border < 100, `border ${border}`);
  });

  it('agrees with the reference', () => {
    const options = { labels: [7, 3], factor: 0.5, sigmaMm: 2 };
    assertClose(
      atrophy(wasm, image, atlas, options).data,
      atrophy(reference, image, atlas, options).data,
      1e-4,
      'wasm vs reference',
    );
  });

  it('rejects an atlas on another grid, naming both', () => {
    const other = volumeOf([24, 12, 9], () => 7, undefined, 'aal.nii.gz');
    assert.throws(
      () => atrophy(wasm, image, other, { labels: [7], factor: 0.3 }),
      /atlas aal\.nii\.gz \(shape \[24, 12, 9\].*image T1\.nii\.gz \(shape \[24, 12, 10\]/,
    );
  });

  it('rejects missing labels and bad factors', () => {
    assert.throws(
      () => atrophy(wasm, image, atlas, { labels: [99], factor: 0.3 }),
      /no voxel with label\(s\) 99/,
    );
    assert.throws(
      () => atrophy(wasm, image, atlas, { labels: [7], factor: 1.5 }),
      /factor 1\.5 is invalid/,
    );
    assert.throws(
      () => atrophy(wasm, image, atlas, { labels: [], factor: 0.3 }),
      /at least one atlas label/,
    );
  });
});
