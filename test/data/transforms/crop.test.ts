import assert from 'node:assert/strict';

import { centredStart, cropOrPad, cropToMask } from '../../../src/data/transforms/crop.js';
import { affineFromRows, Volume } from '../../../src/data/volume.js';
import type { Dims, ImageBackend } from '../../../src/data/wasm/backend.js';
import { reference, volumeOf, wasmKernels } from './helpers.js';

describe('crop and pad', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });

  const startCases: { dims: Dims; outDims: Dims; start: Dims }[] = [
    { dims: [10, 10, 10], outDims: [6, 7, 10], start: [2, 1, 0] },
    { dims: [3, 4, 5], outDims: [6, 7, 5], start: [-1, -1, 0] },
    { dims: [91, 109, 91], outDims: [80, 96, 80], start: [5, 6, 5] },
  ];
  for (const { dims, outDims, start } of startCases) {
    it(`starts a centred box of ${outDims} in ${dims} at ${start}`, () => {
      assert.deepEqual(centredStart(dims, outDims), start);
    });
  }

  it('crops and pads around the centre', () => {
    const affine = affineFromRows([
      [2, 0, 0, -10],
      [0, 2, 0, 0],
      [0, 0, 2, 4],
    ]);
    const volume = volumeOf([4, 3, 1], (i, j) => 1 + i + 4 * j, affine);
    for (const backend of [wasm, reference]) {
      const result = cropOrPad(backend, volume, [2, 5, 1], -1);
      // x keeps voxels 1 and 2; y gains one padded row on each side.
      assert.deepEqual(Array.from(result.data), [-1, -1, 2, 3, 6, 7, 10, 11, -1, -1]);
      assert.deepEqual(result.worldFromVoxel(0, 1, 0), volume.worldFromVoxel(1, 0, 0));
    }
  });

  it('crops around a mask with a margin', () => {
    const volume = volumeOf([8, 8, 8], (i, j, k) => i + 10 * j + 100 * k);
    const mask = volumeOf([8, 8, 8], (i, j, k) => (i >= 2 && i <= 3 && j === 5 && k >= 6 ? 1 : 0));
    const result = cropToMask(wasm, volume, mask, [1, 0, 2], -7);
    assert.deepEqual(result.shape, [4, 1, 6]);
    assert.deepEqual(result.worldFromVoxel(0, 0, 0), [1, 5, 4]);
    assert.equal(result.get(1, 0, 2), 2 + 50 + 600);
    // z runs from 4 to 9, past the volume's last slice 7.
    assert.equal(result.get(0, 0, 5), -7);
    assert.deepEqual(result.data, cropToMask(reference, volume, mask, [1, 0, 2], -7).data);
  });

  it('rejects a mask on another grid, naming both', () => {
    const volume = volumeOf([4, 4, 4], () => 1, undefined, 'image.nii');
    const mask = volumeOf([4, 4, 5], () => 1, undefined, 'mask.nii');
    assert.throws(
      () => cropToMask(wasm, volume, mask),
      /mask mask\.nii \(shape \[4, 4, 5\].*image image\.nii \(shape \[4, 4, 4\]/,
    );
  });

  it('rejects an empty mask', () => {
    const volume = Volume.zeros([3, 3, 3]);
    assert.throws(() => cropToMask(wasm, volume, Volume.zeros([3, 3, 3])), /has no non-zero voxel/);
  });

  it('rejects invalid shapes and margins', () => {
    const volume = Volume.zeros([3, 3, 3]);
    assert.throws(() => cropOrPad(wasm, volume, [3, 0, 3]), /Crop shape \[3, 0, 3\] is invalid/);
    assert.throws(() => cropOrPad(wasm, volume, [3, 3]), /Crop shape \[3, 3\] is invalid/);
    const mask = volumeOf([3, 3, 3], () => 1);
    assert.throws(() => cropToMask(wasm, volume, mask, -1), /margin \[-1, -1, -1\] is invalid/);
  });

  it('crops every frame of a 4D volume', () => {
    const volume = new Volume(
      Float32Array.from({ length: 16 }, (_, v) => v),
      [2, 2, 2, 2],
      affineFromRows([]),
    );
    const result = cropOrPad(wasm, volume, [1, 2, 2]);
    assert.deepEqual(result.shape, [1, 2, 2, 2]);
    assert.deepEqual(Array.from(result.data), [0, 2, 4, 6, 8, 10, 12, 14]);
  });
});
