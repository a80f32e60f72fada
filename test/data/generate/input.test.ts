import assert from 'node:assert/strict';

import {
  atlasOnGrid,
  prepareImage,
  referenceIntensity,
  singleFrame,
} from '../../../src/data/generate/input.js';
import { affineFromRows, Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { volumeOf, wasmKernels } from '../transforms/helpers.js';

// A 20 x 24 x 16 image (2 mm voxels) with a bright box over voxels [4, 13] x [6, 17] x [3, 10].
const AFFINE = affineFromRows([
  [2, 0, 0, -20],
  [0, 2, 0, -24],
  [0, 0, 2, -16],
]);
const inBox = (i: number, j: number, k: number) =>
  i >= 4 && i <= 13 && j >= 6 && j <= 17 && k >= 3 && k <= 10;
const IMAGE = volumeOf([20, 24, 16], (i, j, k) => (inBox(i, j, k) ? 50 + i : 0), AFFINE, 'box');

describe('generator input grid', () => {
  let backend: ImageBackend;
  before(async () => {
    backend = await wasmKernels();
  });

  it('keeps the grid by default', () => {
    const image = prepareImage(backend, IMAGE, {});
    assert.deepEqual(image.spatialShape, [20, 24, 16]);
    assert.deepEqual(image.data, IMAGE.data);
  });

  it('resamples to a voxel size', () => {
    const image = prepareImage(backend, IMAGE, { resampleMm: 4 });
    assert.deepEqual(image.spatialShape, [10, 12, 8]);
    assert.deepEqual(image.spacing, [4, 4, 4]);
    assert.equal(image.header.source, 'box');
  });

  it('crops to the brain with a margin', () => {
    const image = prepareImage(backend, IMAGE, { crop: 'brain' });
    assert.deepEqual(image.spatialShape, [14, 16, 12]);
    // Voxel (2, 2, 2) of the crop is voxel (4, 6, 3) of the input, at the same world point.
    assert.equal(image.get(2, 2, 2), IMAGE.get(4, 6, 3));
    assert.deepEqual(image.worldFromVoxel(2, 2, 2), IMAGE.worldFromVoxel(4, 6, 3));
  });

  it('crops a shape centred on the brain', () => {
    const image = prepareImage(backend, IMAGE, { crop: [6, 8, 4] });
    assert.deepEqual(image.spatialShape, [6, 8, 4]);
    // The box's centre is voxel (8.5, 11.5, 6.5), so the crop starts at voxel (6, 8, 5).
    assert.equal(image.get(0, 0, 0), IMAGE.get(6, 8, 5));
    assert.ok(image.data.every((value) => value > 0));
  });

  it('pads a crop larger than the image', () => {
    const image = prepareImage(backend, IMAGE, { crop: [30, 30, 30] });
    assert.deepEqual(image.spatialShape, [30, 30, 30]);
    assert.equal(
      image.data.reduce((sum, value) => sum + value, 0),
      IMAGE.data.reduce((sum, value) => sum + value, 0),
    );
  });

  it('brings an atlas onto the image grid', () => {
    const atlas = volumeOf(
      [40, 48, 32],
      (i) => (i < 20 ? 3 : 7),
      affineFromRows([
        [1, 0, 0, -20.5],
        [0, 1, 0, -24.5],
        [0, 0, 1, -16.5],
      ]),
    );
    const image = prepareImage(backend, IMAGE, { resampleMm: 4 });
    const labels = atlasOnGrid(backend, atlas, image);
    assert.deepEqual(labels.spatialShape, image.spatialShape);
    assert.deepEqual(labels.affine, image.affine);
    assert.deepEqual(new Set(labels.data), new Set([3, 7]));
  });

  it('takes the 99th percentile as reference intensity', () => {
    const values = volumeOf([10, 10, 1], (i, j) => (j < 5 ? 0 : 1 + i + 10 * (j - 5)));
    assert.ok(Math.abs(referenceIntensity(backend, values) - 49.51) < 1e-3);
  });

  it('rejects an image without positive voxels', () => {
    const empty = volumeOf([4, 4, 4], () => 0, AFFINE, 'empty.nii');
    assert.throws(() => prepareImage(backend, empty, {}), /empty\.nii has no voxel above 0/);
  });

  it('rejects a 4D image', () => {
    const series = new Volume(new Float32Array(2 * 8), [2, 2, 2, 2], AFFINE);
    series.header.source = 'series.nii';
    assert.throws(() => singleFrame(series, 'input image'), /series\.nii has 2 frames/);
  });
});
