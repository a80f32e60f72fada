import assert from 'node:assert/strict';

import {
  checkSheppLoganOptions,
  drawSubtypes,
  phantomEllipsoids,
  SHEPPLOGAN_DEFAULTS,
  sheppLoganPhantom,
  type SheppLoganOptions,
} from '../../../src/data/generate/shepplogan.js';
import { alternatingDiagnoses } from '../../../src/data/generate/subjects.js';
import type { Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { wasmKernels } from '../transforms/helpers.js';

const SIZE = 32;
const OPTIONS: SheppLoganOptions = { ...SHEPPLOGAN_DEFAULTS, size: SIZE };

/** Returns the normalised z (-1 inferior to 1 superior) of every voxel where a and b differ. */
function differingHeights(a: Volume, b: Volume): number[] {
  const heights: number[] = [];
  for (let index = 0; index < a.data.length; index++) {
    if (a.data[index] === b.data[index]) continue;
    const k = Math.floor(index / (SIZE * SIZE));
    heights.push((2 * k + 1) / SIZE - 1);
  }
  return heights;
}

describe('Shepp-Logan phantoms', () => {
  let backend: ImageBackend;
  before(async () => {
    backend = await wasmKernels();
  });

  for (const smoothing of [false, true]) {
    it(`differ by subtype only in its regions${smoothing ? ', smoothed' : ''}`, () => {
      const options = { ...OPTIONS, smoothing };
      for (const seed of [1, 2, 3]) {
        const [normal, inferior, superior] = [0, 1, 2].map((subtype) =>
          sheppLoganPhantom(backend, subtype, seed, options),
        );
        const small = differingHeights(normal!, inferior!);
        const large = differingHeights(normal!, superior!);
        assert.ok(small.length > 10, `seed ${seed}: ${small.length} voxels differ for subtype 1`);
        assert.ok(large.length > 10, `seed ${seed}: ${large.length} voxels differ for subtype 2`);
        assert.ok(Math.max(...small) < -0.1, `subtype 1 differs up to z ${Math.max(...small)}`);
        assert.ok(Math.min(...large) > 0.1, `subtype 2 differs down to z ${Math.min(...large)}`);
      }
    });
  }

  it('shrinks the regions of the subtype', () => {
    const count = (subtype: number) =>
      sheppLoganPhantom(backend, subtype, 5, OPTIONS).data.filter(
        (value) => value > 0.3 && value < 0.7,
      ).length;
    assert.ok(count(1) < count(0), `subtype 1: ${count(1)} region voxels, subtype 0: ${count(0)}`);
    assert.ok(count(2) < count(0), `subtype 2: ${count(2)} region voxels, subtype 0: ${count(0)}`);
  });

  it('paints grey levels in [0, 1] with a skull', () => {
    const phantom = sheppLoganPhantom(backend, 0, 9, OPTIONS);
    assert.deepEqual(phantom.shape, [SIZE, SIZE, SIZE]);
    assert.ok(phantom.data.every((value) => value >= 0 && value <= 1));
    assert.equal(phantom.get(0, 0, 0), 0);
    assert.equal(phantom.get(SIZE / 2, 1, SIZE / 2), 1);
    assert.equal(phantom.get(SIZE / 2, SIZE / 2, SIZE / 2) > 0.3, true);
    assert.deepEqual(phantom.worldFromVoxel(15.5, 15.5, 15.5), [0, 0, 0]);
  });

  it('gives the same phantom for the same seed', () => {
    const first = sheppLoganPhantom(backend, 1, 4, OPTIONS);
    assert.deepEqual(sheppLoganPhantom(backend, 1, 4, OPTIONS).data, first.data);
    assert.notDeepEqual(sheppLoganPhantom(backend, 1, 6, OPTIONS).data, first.data);
  });

  it('draws subtypes from each class distribution', () => {
    const diagnoses = alternatingDiagnoses(2000);
    const subtypes = drawSubtypes(diagnoses, SHEPPLOGAN_DEFAULTS, 1);
    const frequency = (diagnosis: string, subtype: number) =>
      subtypes.filter((value, index) => diagnoses[index] === diagnosis && value === subtype)
        .length / 2000;
    assert.equal(frequency('CN', 0), 1);
    assert.ok(Math.abs(frequency('AD', 0) - 0.05) < 0.02, `AD subtype 0: ${frequency('AD', 0)}`);
    assert.ok(Math.abs(frequency('AD', 1) - 0.85) < 0.03, `AD subtype 1: ${frequency('AD', 1)}`);
    assert.ok(Math.abs(frequency('AD', 2) - 0.1) < 0.02, `AD subtype 2: ${frequency('AD', 2)}`);
  });

  const invalid: [string, Partial<SheppLoganOptions>, RegExp][] = [
    ['a size below 16', { size: 8 }, /Phantom size 8 is invalid/],
    ['a fractional size', { size: 32.5 }, /Phantom size 32\.5 is invalid/],
    ['probabilities not summing to 1', { adSubtypes: [0.5, 0.4, 0] }, /AD subtype .* sum to 1/],
    ['a negative probability', { cnSubtypes: [1.5, -0.5, 0] }, /CN subtype distribution/],
  ];
  for (const [name, change, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => checkSheppLoganOptions({ ...OPTIONS, ...change }), message);
    });
  }

  it('rejects subtype 3', () => {
    assert.throws(() => phantomEllipsoids(3, 1), /subtype 3 is invalid: expected 0, 1 or 2/);
  });
});
