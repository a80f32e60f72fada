// Acceptance tests of the Wasm image operations on Colin27 against scipy.ndimage (numbers in
// fixtures/reference.json, written by fixtures/reference.py), and their errors for bad sizes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { UserError } from '../../src/errors.js';
import { readNifti } from '../../src/data/nifti/node.js';
import * as transforms from '../../src/data/transforms/index.js';
import type { Volume } from '../../src/data/volume.js';
import { loadImageKernels, type ImageKernels } from '../../src/data/wasm/index.js';

interface ScipyResult {
  shape?: number[];
  sum: number;
  probes: [number, number, number, number][];
}

const reference = JSON.parse(
  readFileSync(new URL('fixtures/reference.json', import.meta.url), 'utf8'),
) as { colin: { resample2mm: ScipyResult; gaussian2mm: ScipyResult } };

const NIFTI = '/work/shared/data/nifti';

function sum(volume: Volume): number {
  return volume.data.reduce((total, value) => total + value, 0);
}

function assertMatches(volume: Volume, expected: ScipyResult, tolerance: number): void {
  assert.ok(Math.abs(sum(volume) - expected.sum) <= 1e-6 * expected.sum, `sum ${sum(volume)}`);
  for (const [i, j, k, value] of expected.probes) {
    assert.ok(Math.abs(volume.get(i, j, k) - value) <= tolerance, `voxel ${[i, j, k]}`);
  }
}

describe('acceptance: image operations on Colin27', function () {
  this.timeout(30_000);
  let kernels: ImageKernels;
  let colin: Volume;

  before(async () => {
    kernels = await loadImageKernels();
    colin = await readNifti('/usr/share/mricron/templates/ch2.nii.gz');
  });

  it('resamples 1 mm to 2 mm as scipy does', () => {
    const resampled = transforms.resampleToSpacing(kernels, colin, 2);
    assert.deepEqual(resampled.shape, reference.colin.resample2mm.shape);
    assert.deepEqual(resampled.spacing, [2, 2, 2]);
    assertMatches(resampled, reference.colin.resample2mm, 1e-4);
  });

  it('smooths with a 2 mm Gaussian as scipy does', () => {
    assertMatches(transforms.gaussianSmooth(kernels, colin, 2), reference.colin.gaussian2mm, 1e-3);
  });

  it('reorients LPI and ASR copies onto the RAS file', async () => {
    const ras = await readNifti(`${NIFTI}/RAS.nii.gz`);
    for (const name of ['LPI', 'ASR']) {
      const result = transforms.reorient(kernels, await readNifti(`${NIFTI}/${name}.nii.gz`));
      assert.equal(result.orientation, 'RAS');
      assert.deepEqual(result.shape, ras.shape);
      assert.ok(result.data.every((value, index) => value === ras.data[index]));
    }
  });

  it('z-scores to mean 0 and std 1', () => {
    const scored = transforms.zScore(kernels, transforms.resampleToSpacing(kernels, colin, 2));
    const mean = sum(scored) / scored.data.length;
    const variance = scored.data.reduce((total, x) => total + (x - mean) ** 2, 0);
    assert.ok(Math.abs(mean) < 1e-6);
    assert.ok(Math.abs(Math.sqrt(variance / scored.data.length) - 1) < 1e-6);
  });

  it('darkens only the left hippocampus of AAL', async () => {
    const aal = await readNifti('/usr/share/mricron/templates/aal.nii.gz');
    const result = transforms.atrophy(kernels, colin, aal, { labels: [37], factor: 0.5 });
    let inside = 0;
    let insideAfter = 0;
    let farChanged = 0;
    for (let index = 0; index < aal.data.length; index++) {
      if (aal.data[index] === 37) {
        inside += colin.data[index]!;
        insideAfter += result.data[index]!;
      }
    }
    for (let index = 0; index < aal.data.length; index += 97) {
      const [i, j, k] = [index % 181, Math.floor(index / 181) % 217, Math.floor(index / 39277)];
      if (i > 120 && result.get(i, j, k) !== colin.get(i, j, k)) farChanged++;
    }
    assert.ok(insideAfter < 0.75 * inside, `${insideAfter} of ${inside}`);
    assert.ok(insideAfter > 0.45 * inside, `${insideAfter} of ${inside}`);
    assert.equal(farChanged, 0);
  });
});

// An output larger than the Wasm kernels can hold once surfaced as a bare RangeError ("Invalid
// typed array length: 125000000000"); it must be a UserError naming the size and the limit.
describe('acceptance: oversized outputs', function () {
  this.timeout(30_000);
  const cases: [string, (kernels: ImageKernels, volume: Volume) => Volume][] = [
    [
      'a crop of 5000^3',
      (kernels, volume) => transforms.cropOrPad(kernels, volume, [5000, 5000, 5000]),
    ],
    [
      'a resample to 0.01 mm',
      (kernels, volume) => transforms.resampleToSpacing(kernels, volume, 0.01),
    ],
  ];
  for (const [name, run] of cases) {
    it(`rejects ${name} with a UserError`, async () => {
      const kernels = await loadImageKernels();
      const volume = await readNifti(`${NIFTI}/minimal.nii.gz`);
      assert.throws(
        () => run(kernels, volume),
        (error: Error) => error instanceof UserError,
      );
    });
  }
});
