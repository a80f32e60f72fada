import assert from 'node:assert/strict';

import { translateAffine } from '../../src/data/transforms/grid.js';
import { affineFromRows, Volume } from '../../src/data/volume.js';
import { assembleSamples, samplePlacement } from '../../src/experiment/assemble.js';

const AFFINE = affineFromRows([
  [2, 0, 0, -10],
  [0, 2, 0, 5],
  [0, 0, 3, 1],
]);

function volume(shape: number[], affine = AFFINE, fill = 0): Volume {
  const size = shape.reduce((total, extent) => total * extent, 1);
  return new Volume(new Float32Array(size).fill(fill), shape, affine);
}

describe('samplePlacement', () => {
  it('finds a patch from its affine', () => {
    const patch = volume([2, 2, 2], translateAffine(AFFINE, [1, 0, 2]));
    assert.deepEqual(samplePlacement(volume([4, 3, 5]), patch), [1, 0, 2]);
  });

  it('rejects a resampled sample', () => {
    const scaled = affineFromRows([
      [1, 0, 0, -10],
      [0, 2, 0, 5],
      [0, 0, 3, 1],
    ]);
    assert.throws(
      () => samplePlacement(volume([4, 3, 5]), volume([2, 2, 2], scaled)),
      /not on the image's voxel grid/,
    );
  });

  it('rejects a sample between voxels', () => {
    const shifted = translateAffine(AFFINE, [0.5, 0, 0]);
    assert.throws(() => samplePlacement(volume([4, 3, 5]), volume([2, 2, 2], shifted)), /not on/);
  });
});

describe('assembleSamples', () => {
  it('averages overlaps and zeroes uncovered voxels', () => {
    // A 4 x 1 x 1 image with two 2-voxel patches at x = 0 and x = 1, two output channels.
    const image = volume([4, 1, 1]);
    const patches = [0, 1].map((x) => volume([2, 1, 1], translateAffine(AFFINE, [x, 0, 0])));
    const samples = patches.map((patch) => ({
      data: patch.data,
      shape: [1, 1, 1, 2],
      volume: patch,
    }));
    const outputs = [
      { data: Float32Array.of(1, 2, 10, 20), shape: [2, 1, 1, 2] },
      { data: Float32Array.of(4, 6, 40, 60), shape: [2, 1, 1, 2] },
    ];
    const result = assembleSamples(outputs, { volume: image, samples });
    assert.deepEqual(result.shape, [2, 1, 1, 4]);
    assert.deepEqual([...result.data], [1, 3, 6, 0, 10, 30, 60, 0]);
  });
});
