import assert from 'node:assert/strict';

import { reorientToRas } from '../../../src/data/nifti/reorient.js';
import { readNifti } from '../../../src/data/nifti/node.js';
import { planReorient, reorient } from '../../../src/data/transforms/reorient.js';
import { affineFromRows, parseAxisCodes, type Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { reference, volumeOf, wasmKernels } from './helpers.js';

const FIXTURES = new URL('../../fixtures/nifti/', import.meta.url).pathname;

/** Returns an affine with voxel axes along `codes`, voxel sizes 1, 2, 3 and an offset. */
function affineFor(codes: string): Float64Array {
  const rows = [
    [0, 0, 0, 10],
    [0, 0, 0, -20],
    [0, 0, 0, 30],
  ];
  parseAxisCodes(codes).forEach((axis, voxelAxis) => {
    rows[axis.worldAxis]![voxelAxis] = axis.sign * (voxelAxis + 1);
  });
  return affineFromRows(rows);
}

/** Returns every axis code triple: 6 permutations times 8 sign choices. */
function allCodes(): string[] {
  const codes: string[] = [];
  const permutations = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  for (const permutation of permutations) {
    for (let signs = 0; signs < 8; signs++) {
      codes.push(permutation.map((world, a) => ((signs >> a) & 1 ? 'LPI' : 'RAS')[world]).join(''));
    }
  }
  return codes;
}

describe('reorient', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });

  it('flips RAS into LAS', () => {
    const volume = volumeOf([3, 2, 2], (i, j, k) => i + 10 * j + 100 * k, affineFor('RAS'));
    const result = reorient(wasm, volume, 'LAS');
    assert.equal(result.orientation, 'LAS');
    assert.deepEqual(Array.from(result.data.subarray(0, 6)), [2, 1, 0, 12, 11, 10]);
    // The first output voxel is input voxel (2, 0, 0), at x = 10 + 2 * 1 mm.
    assert.deepEqual(result.worldFromVoxel(0, 0, 0), [12, -20, 30]);
    assert.equal(result.affine[0], -1);
  });

  it('plans the permutation of ASR', () => {
    const plan = planReorient(volumeOf([4, 3, 2], () => 0, affineFor('ASR')));
    assert.deepEqual(plan.axisOf, [2, 0, 1]);
    assert.deepEqual(plan.flips, [false, false, false]);
    assert.deepEqual(plan.outDims, [2, 4, 3]);
  });

  for (const codes of allCodes()) {
    it(`brings ${codes} to RAS with voxels in place`, async () => {
      const volume = volumeOf([4, 3, 2], (i, j, k) => i + 10 * j + 100 * k, affineFor(codes));
      const fromWasm = reorient(wasm, volume);
      const fromReference = reorient(reference, volume);
      assert.equal(fromWasm.orientation, 'RAS');
      assert.deepEqual(fromWasm.data, fromReference.data);
      assert.deepEqual(fromWasm.affine, fromReference.affine);
      // Each value identifies its input voxel, which must keep its world position.
      const [nx, ny, nz] = fromWasm.spatialShape;
      for (const [i, j, k] of [
        [0, 0, 0],
        [1, ny - 1, 0],
        [nx - 1, ny - 1, nz - 1],
      ] as const) {
        const value = fromWasm.get(i, j, k);
        const input = [value % 10, Math.floor(value / 10) % 10, Math.floor(value / 100)] as const;
        assert.deepEqual(fromWasm.worldFromVoxel(i, j, k), volume.worldFromVoxel(...input));
      }
    });
  }

  it('rejects invalid target codes', async () => {
    const volume = volumeOf([2, 2, 2], () => 0);
    assert.throws(() => reorient(wasm, volume, 'RAR'), /Axis codes 'RAR' are invalid/);
  });

  it('rejects a degenerate affine', () => {
    const flat = affineFromRows([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 0],
    ]);
    const volume = volumeOf([2, 2, 2], () => 0, flat, 'flat.nii');
    assert.throws(() => reorient(wasm, volume), /Cannot reorient flat\.nii to RAS/);
  });

  describe('one brain in three voxel orders', () => {
    const volumes: Record<string, Volume> = {};
    before(async () => {
      for (const name of ['RAS', 'LPI', 'ASR'])
        volumes[name] = await readNifti(`${FIXTURES}${name}.nii.gz`);
    });

    for (const name of ['RAS', 'LPI', 'ASR']) {
      it(`matches reorientToRas on ${name}`, () => {
        const expected = reorientToRas(volumes[name]!);
        const actual = reorient(wasm, volumes[name]!);
        assert.deepEqual(actual.shape, expected.shape);
        assert.deepEqual(actual.data, expected.data);
        for (let index = 0; index < 16; index++) {
          assert.ok(
            Math.abs(actual.affine[index]! - expected.affine[index]!) < 1e-9,
            `affine[${index}]`,
          );
        }
      });
    }

    it('gives one array for the three orders', () => {
      const ras = reorient(wasm, volumes.RAS!);
      for (const name of ['LPI', 'ASR']) {
        const other = reorient(wasm, volumes[name]!);
        assert.deepEqual(other.shape, ras.shape, `${name} shape`);
        assert.deepEqual(other.data, ras.data, `${name} data`);
      }
    });
  });
});
