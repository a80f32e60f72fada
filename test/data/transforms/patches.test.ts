import assert from 'node:assert/strict';

import { cropBox } from '../../../src/data/transforms/crop.js';
import { extractPatches, extractSlices } from '../../../src/data/transforms/patches.js';
import { Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { reference, volumeOf, wasmKernels } from './helpers.js';

describe('patches and slices', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });
  const volume = volumeOf([10, 9, 8], (i, j, k) => i + 10 * j + 100 * k);

  const patchCases = [
    { size: 4, stride: 3, count: 3 * 2 * 2 },
    { size: 5, stride: 5, count: 2 * 1 * 1 },
    { size: 8, stride: 1, count: 3 * 2 * 1 },
  ];
  for (const { size, stride, count } of patchCases) {
    it(`cuts ${count} patches of size ${size}, stride ${stride}`, () => {
      const patches = extractPatches(wasm, volume, size, stride);
      assert.equal(patches.data.length, count);
      assert.deepEqual(patches.boxDims, [size, size, size]);
      patches.starts.forEach((start, index) => {
        const expected = cropBox(reference, volume, start, patches.boxDims);
        assert.deepEqual(patches.data[index], expected.data, `patch ${index} at ${start}`);
      });
    });
  }

  it('numbers patches with x fastest', () => {
    const patches = extractPatches(wasm, volume, [4, 4, 4], [3, 3, 3]);
    assert.deepEqual(patches.starts.slice(0, 4), [
      [0, 0, 0],
      [3, 0, 0],
      [6, 0, 0],
      [0, 3, 0],
    ]);
  });

  for (const axis of [0, 1, 2]) {
    it(`cuts slices along axis ${axis}, discarding borders`, () => {
      const slices = extractSlices(wasm, volume, axis, 2);
      assert.equal(slices.data.length, volume.spatialShape[axis]! - 4);
      assert.equal(slices.starts[0]![axis], 2);
      const position = [0, 0, 0];
      position[axis] = 2;
      assert.equal(slices.data[0]![0], volume.get(position[0]!, position[1]!, position[2]!));
      assert.deepEqual(slices.data[1], extractSlices(reference, volume, axis, 2).data[1]);
    });
  }

  it('rejects invalid axes, discards and sizes', () => {
    assert.throws(() => extractSlices(wasm, volume, 3), /Slice axis 3 is invalid/);
    assert.throws(() => extractSlices(wasm, volume, 2, 4), /Discarding 4 slice\(s\)/);
    assert.throws(() => extractPatches(wasm, volume, 11, 1), /Patch size \[11, 11, 11\] is larger/);
    assert.throws(() => extractPatches(wasm, volume, 4, 0), /Patch stride \[0, 0, 0\] is invalid/);
  });

  it('keeps every frame in a patch', () => {
    const twoFrames = new Volume(
      Float32Array.from({ length: 16 }, (_, v) => v),
      [2, 2, 2, 2],
      volume.affine,
    );
    const patches = extractPatches(wasm, twoFrames, [1, 2, 2], 1);
    assert.deepEqual(Array.from(patches.data[1]!), [1, 3, 5, 7, 9, 11, 13, 15]);
  });
});
