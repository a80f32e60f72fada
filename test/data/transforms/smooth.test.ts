import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { gaussianSmooth, gaussianWeights } from '../../../src/data/transforms/smooth.js';
import { affineFromRows, Volume } from '../../../src/data/volume.js';
import type { Dims, ImageBackend } from '../../../src/data/wasm/backend.js';
import { assertClose, pseudoRandom, reference, volumeOf, wasmKernels } from './helpers.js';

const scipy = JSON.parse(
  readFileSync(new URL('../../fixtures/transforms/scipy_reference.json', import.meta.url), 'utf8'),
) as { shape: Dims; volume: number[]; smoothing: { sigma: number[]; output: number[] }[] };

describe('gaussian smoothing', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });

  it('builds scipy-sized normalised kernels', () => {
    const weights = gaussianWeights(1)!;
    assert.equal(weights.length, 9);
    assert.ok(Math.abs(weights.reduce((sum, weight) => sum + weight, 0) - 1) < 1e-6);
    assert.equal(gaussianWeights(2.5)!.length, 21);
    assert.equal(gaussianWeights(0), null);
  });

  for (const { sigma, output } of scipy.smoothing) {
    it(`matches scipy gaussian_filter for sigma ${sigma}`, () => {
      const volume = new Volume(Float32Array.from(scipy.volume), scipy.shape, affineFromRows([]));
      for (const backend of [wasm, reference]) {
        assertClose(gaussianSmooth(backend, volume, sigma).data, output, 2e-6, backend.name);
      }
    });
  }

  it('converts sigma from mm through the spacing', () => {
    const affine = affineFromRows([
      [2, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0.5, 0],
    ]);
    const data = pseudoRandom(9 * 10 * 11, 5);
    const inMm = gaussianSmooth(wasm, new Volume(data, [9, 10, 11], affine), 2);
    const inVoxels = gaussianSmooth(
      wasm,
      new Volume(data, [9, 10, 11], affineFromRows([])),
      [1, 2, 4],
    );
    assertClose(inMm.data, inVoxels.data, 1e-6, 'mm vs voxels');
  });

  it('keeps a constant image constant', () => {
    const result = gaussianSmooth(
      wasm,
      volumeOf([13, 6, 5], () => 3),
      [1.5, 3, 0.7],
    );
    assert.ok(result.data.every((value) => Math.abs(value - 3) < 1e-5));
  });

  it('agrees with the reference on a larger volume', () => {
    const volume = new Volume(pseudoRandom(23 * 17 * 9, 9), [23, 17, 9], affineFromRows([]));
    assertClose(
      gaussianSmooth(wasm, volume, [1.3, 0.9, 2]).data,
      gaussianSmooth(reference, volume, [1.3, 0.9, 2]).data,
      2e-6,
      'wasm vs reference',
    );
  });

  it('rejects negative sigmas', () => {
    assert.throws(
      () => gaussianSmooth(wasm, Volume.zeros([2, 2, 2]), -1),
      /sigma \[-1, -1, -1\] mm is invalid/,
    );
  });
});
