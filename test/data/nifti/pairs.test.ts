// The equal pairs among the fixtures: files that store the same image differently must decode
// to the same values (after reorientation to RAS+ where their voxel orders differ).

import assert from 'node:assert/strict';
import { describe, it } from 'mocha';

import { readNifti } from '../../../src/data/nifti/node.js';
import { reorientToRas } from '../../../src/data/nifti/reorient.js';
import { affineFromRows, affineToRows, Volume } from '../../../src/data/volume.js';

const FIXTURES = new URL('../../fixtures/nifti/', import.meta.url).pathname;

function maxDifference(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function assertSameImage(a: Volume, b: Volume, valueTolerance: number) {
  assert.deepEqual(a.spatialShape, b.spatialShape);
  assert.equal(a.data.length, b.data.length);
  const difference = maxDifference(a.data, b.data);
  assert.ok(difference <= valueTolerance, `voxels differ by up to ${difference}`);
  const affineDifference = maxDifference(a.affine, b.affine);
  assert.ok(affineDifference <= 1e-5, `affines differ by up to ${affineDifference}`);
}

const equalPairs: [string, string, number][] = [
  ['big.nii.gz', 'little.nii.gz', 0],
  ['avg152T1_LR_nifti.nii.gz', 'avg152T1_LR_nifti2.nii.gz', 0],
  ['RAS.nii.gz', 'LPI.nii.gz', 0],
  ['RAS.nii.gz', 'ASR.nii.gz', 0],
  // The pair stores float32 where RAS.nii.gz stores uint8 scaled by 0.363.
  ['RAS.nii.gz', 'air.hdr.gz', 4e-6],
];

describe('equal fixture pairs', () => {
  for (const [first, second, tolerance] of equalPairs) {
    it(`decodes ${first} and ${second} alike`, async () => {
      const a = reorientToRas(await readNifti(`${FIXTURES}${first}`));
      const b = reorientToRas(await readNifti(`${FIXTURES}${second}`));
      assert.equal(a.orientation, 'RAS');
      assert.equal(b.orientation, 'RAS');
      assertSameImage(a, b, tolerance);
    });
  }

  it('finds the pair from its image name', async () => {
    const fromHeader = await readNifti(`${FIXTURES}ras.hdr`);
    const fromImage = await readNifti(`${FIXTURES}ras.img`);
    assertSameImage(fromHeader, fromImage, 0);
  });
});

describe('reorientToRas', () => {
  // A 2x3x4 ramp stored LPI: voxel (i, j, k) contains i + 10 j + 100 k.
  const shape = [2, 3, 4];
  const data = new Float32Array(24);
  for (let k = 0; k < 4; k++) {
    for (let j = 0; j < 3; j++)
      for (let i = 0; i < 2; i++) data[i + 2 * (j + 3 * k)] = i + 10 * j + 100 * k;
  }
  const lpi = new Volume(
    data,
    shape,
    affineFromRows([
      [-2, 0, 0, 10],
      [0, -3, 0, 20],
      [0, 0, -4, 30],
    ]),
  );

  it('flips every axis of LPI', () => {
    const ras = reorientToRas(lpi);
    assert.equal(ras.orientation, 'RAS');
    assert.deepEqual(ras.shape, [2, 3, 4]);
    assert.equal(ras.get(0, 0, 0), 1 + 20 + 300);
    assert.equal(ras.get(1, 2, 3), 0);
    assert.deepEqual(affineToRows(ras.affine).slice(0, 3), [
      [2, 0, 0, 8],
      [0, 3, 0, 14],
      [0, 0, 4, 18],
    ]);
  });

  it('keeps world positions', () => {
    const ras = reorientToRas(lpi);
    for (const [i, j, k] of [
      [0, 0, 0],
      [1, 2, 3],
      [1, 0, 2],
    ] as const) {
      const world = ras.worldFromVoxel(i, j, k);
      const [x, y, z] = lpi.voxelFromWorld(...world).map(Math.round) as [number, number, number];
      assert.equal(ras.get(i, j, k), lpi.get(x, y, z));
    }
  });

  it('permutes ASR axes and spacing', () => {
    const asr = new Volume(
      Float32Array.from({ length: 24 }, (_, index) => index),
      [2, 3, 4],
      affineFromRows([
        [0, 0, 1.5, 0],
        [2, 0, 0, 0],
        [0, 3, 0, 0],
      ]),
    );
    const ras = reorientToRas(asr);
    assert.deepEqual(ras.shape, [4, 2, 3]);
    assert.deepEqual(ras.spacing, [1.5, 2, 3]);
    // RAS voxel (x, y, z) is ASR voxel (i = y, j = z, k = x).
    assert.equal(ras.get(3, 1, 2), asr.get(1, 2, 3));
    assert.equal(ras.get(2, 0, 1), asr.get(0, 1, 2));
  });

  it('moves every frame of a 4D volume', () => {
    const frames = new Volume(
      Float32Array.from({ length: 8 }, (_, index) => index),
      [2, 1, 1, 4],
      affineFromRows([
        [-1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
      ]),
    );
    const ras = reorientToRas(frames);
    assert.deepEqual(ras.shape, [2, 1, 1, 4]);
    assert.deepEqual(Array.from(ras.data), [1, 0, 3, 2, 5, 4, 7, 6]);
  });

  it('rejects a degenerate affine', () => {
    const flat = Volume.zeros(
      [2, 2, 2],
      affineFromRows([
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 0],
      ]),
    );
    assert.throws(() => reorientToRas(flat), /degenerate voxel axis \(axis codes RA\?\)/);
  });
});
