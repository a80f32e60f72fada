// Aligning a new image to the training images' grid before preprocessing: reorientation when
// the transforms do not reorient, and a rejected voxel size when they do not resample.

import assert from 'node:assert/strict';

import { parseTransformsConfig } from '../../src/data/dataset-config.js';
import { reorient } from '../../src/data/transforms/reorient.js';
import { affineFromRows } from '../../src/data/volume.js';
import { UserError } from '../../src/errors.js';
import {
  alignToTrainingGrid,
  preprocessImage,
  type TrainingGrid,
} from '../../src/experiment/preprocessing.js';
import { reference, volumeOf } from '../data/transforms/helpers.js';

const RAS_2MM = affineFromRows([
  [2, 0, 0, -10],
  [0, 2, 0, -12],
  [0, 0, 2, -8],
]);
// The LPS grid holding the same world points as RAS_2MM over DIMS (voxel i = 3 - i', ...).
const LPS_2MM = affineFromRows([
  [-2, 0, 0, -4],
  [0, -2, 0, -8],
  [0, 0, 2, -8],
]);
const RAS_3MM = affineFromRows([
  [3, 0, 0, -10],
  [0, 3, 0, -12],
  [0, 0, 3, -8],
]);
const GRID: TrainingGrid = { axisCodes: 'RAS', voxelSizeMm: [2, 2, 2] };
const DIMS: [number, number, number] = [4, 3, 5];

function transforms(image: unknown[]) {
  return parseTransformsConfig({ image });
}

/** Returns the anatomy of `ras` stored in LPS voxel order: each world point keeps its value. */
function lpsCopy() {
  return volumeOf(DIMS, (i, j, k) => 100 * (DIMS[0] - 1 - i) + 10 * (DIMS[1] - 1 - j) + k, LPS_2MM);
}

describe('alignToTrainingGrid', () => {
  const ras = volumeOf(DIMS, (i, j, k) => 100 * i + 10 * j + k, RAS_2MM);

  it('reorients an LPS image to the training RAS order', () => {
    const aligned = alignToTrainingGrid(reference, lpsCopy(), {
      transforms: transforms([{ op: 'zScore' }]),
      grid: GRID,
    });
    assert.equal(aligned.orientation, 'RAS');
    assert.deepEqual([...aligned.data], [...ras.data]);
    // Adding 0 turns -0 into 0, which deepEqual would tell apart.
    assert.deepEqual(
      [...aligned.affine].map((value) => value + 0),
      [...ras.affine],
    );
  });

  it('keeps an image already on the training order', () => {
    const aligned = alignToTrainingGrid(reference, ras, {
      transforms: transforms([]),
      grid: GRID,
    });
    assert.equal(aligned, ras);
  });

  it('leaves reorientation to a reorient step', () => {
    const lps = lpsCopy();
    const aligned = alignToTrainingGrid(reference, lps, {
      transforms: transforms([{ op: 'reorient', target: 'RAS' }]),
      grid: GRID,
    });
    assert.equal(aligned, lps);
  });

  it('changes nothing without a recorded grid', () => {
    const lps = lpsCopy();
    const aligned = alignToTrainingGrid(reference, lps, { transforms: transforms([]) });
    assert.equal(aligned, lps);
  });

  it('rejects another voxel size without a resample step', () => {
    const coarse = volumeOf(DIMS, () => 1, RAS_3MM, 'coarse.nii.gz');
    assert.throws(
      () => alignToTrainingGrid(reference, coarse, { transforms: transforms([]), grid: GRID }),
      (error: Error) =>
        error instanceof UserError &&
        /coarse\.nii\.gz has voxels of 3 x 3 x 3 mm/.test(error.message) &&
        /2 x 2 x 2 mm/.test(error.message),
    );
  });

  it('accepts another voxel size with a resample step', () => {
    const coarse = volumeOf(DIMS, () => 1, RAS_3MM);
    const config = { transforms: transforms([{ op: 'resample', spacing: 2 }]), grid: GRID };
    assert.equal(alignToTrainingGrid(reference, coarse, config), coarse);
  });

  it('makes an LPS image preprocess like its RAS copy', () => {
    const config = { transforms: transforms([{ op: 'zScore' }]), grid: GRID };
    const fromLps = preprocessImage(reference, lpsCopy(), config);
    const fromRas = preprocessImage(reference, reorient(reference, ras, 'RAS'), config);
    assert.deepEqual([...fromLps.samples[0]!.data], [...fromRas.samples[0]!.data]);
  });
});
