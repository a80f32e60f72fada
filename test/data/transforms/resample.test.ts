import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  resampleOnto,
  resampleToReference,
  resampleToSpacing,
} from '../../../src/data/transforms/resample.js';
import { affineFromRows, Volume } from '../../../src/data/volume.js';
import type { Dims, ImageBackend } from '../../../src/data/wasm/backend.js';
import { assertClose, pseudoRandom, reference, volumeOf, wasmKernels } from './helpers.js';

interface ScipyReference {
  shape: Dims;
  volume: number[];
  resample: {
    matrix: number[][];
    outputShape: Dims;
    results: { order: number; output: number[] }[];
  };
}

const scipy = JSON.parse(
  readFileSync(new URL('../../fixtures/transforms/scipy_reference.json', import.meta.url), 'utf8'),
) as ScipyReference;

describe('resample', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });

  it('keeps a constant image constant', () => {
    const affine = affineFromRows([
      [0.9, 0.1, 0, -3],
      [-0.1, 1.1, 0, 2],
      [0, 0, 1.3, 5],
    ]);
    const volume = volumeOf([9, 8, 7], () => 4.25, affine);
    const result = resampleToSpacing(wasm, volume, [1.7, 0.6, 2.2]);
    assert.ok(result.data.length > 0);
    assert.ok(result.data.every((value) => Math.abs(value - 4.25) < 1e-5));
  });

  it('resamples a ramp from 1 mm to 2 mm exactly', () => {
    const ramp = (x: number, y: number, z: number) => 3 * x - 2 * y + 0.5 * z + 7;
    const affine = affineFromRows([
      [1, 0, 0, -90],
      [0, 1, 0, -126],
      [0, 0, 1, -72],
    ]);
    const volume = volumeOf([19, 22, 17], (i, j, k) => ramp(i - 90, j - 126, k - 72), affine);
    for (const backend of [wasm, reference]) {
      const result = resampleToSpacing(backend, volume, 2);
      assert.deepEqual(result.shape, [10, 11, 9]);
      assert.deepEqual(result.spacing, [2, 2, 2]);
      for (let k = 0; k < 9; k++) {
        for (let j = 0; j < 11; j++) {
          for (let i = 0; i < 10; i++) {
            const expected = ramp(...result.worldFromVoxel(i, j, k));
            assert.ok(
              Math.abs(result.get(i, j, k) - expected) < 1e-4,
              `${backend.name} (${i},${j},${k})`,
            );
          }
        }
      }
    }
  });

  it('gives 91x109x91 for the MNI 1 mm grid at 2 mm', () => {
    const volume = Volume.zeros([181, 217, 181]);
    assert.deepEqual(resampleToSpacing(wasm, volume, 2).shape, [91, 109, 91]);
  });

  for (const { order, interpolation } of [
    { order: 1, interpolation: 'linear' },
    { order: 0, interpolation: 'nearest' },
  ] as const) {
    it(`matches scipy affine_transform order ${order}`, () => {
      const volume = new Volume(Float32Array.from(scipy.volume), scipy.shape, affineFromRows([]));
      const matrix = affineFromRows(scipy.resample.matrix);
      const expected = scipy.resample.results.find((result) => result.order === order)!.output;
      for (const backend of [wasm, reference]) {
        const result = resampleOnto(backend, volume, scipy.resample.outputShape, matrix, {
          interpolation,
        });
        assertClose(result.data, expected, 1e-5, `${backend.name} order ${order}`);
      }
    });
  }

  it('agrees with the reference on an oblique grid', () => {
    const volume = new Volume(pseudoRandom(12 * 10 * 9), [12, 10, 9], affineFromRows([]));
    const target = affineFromRows([
      [0.8, 0.3, 0, -1],
      [-0.2, 0.9, 0.1, 0.5],
      [0, -0.1, 1.2, -0.7],
    ]);
    for (const interpolation of ['linear', 'nearest'] as const) {
      const fromWasm = resampleOnto(wasm, volume, [14, 11, 8], target, { interpolation, fill: -5 });
      const fromReference = resampleOnto(reference, volume, [14, 11, 8], target, {
        interpolation,
        fill: -5,
      });
      assertClose(fromWasm.data, fromReference.data, 1e-5, interpolation);
      assert.ok(fromWasm.data.includes(-5), `${interpolation} has fill voxels`);
    }
  });

  it('agrees with the reference on an axis-aligned grid', () => {
    // No rotation or shear: the kernel takes its separable path. The offsets push part of the
    // output outside the input, and 13 columns leave a scalar tail after the SIMD blend.
    const volume = new Volume(pseudoRandom(13 * 11 * 7, 8), [13, 11, 7], affineFromRows([]));
    const target = affineFromRows([
      [0.7, 0, 0, -2],
      [0, 1.3, 0, 1.5],
      [0, 0, -0.9, 6.2],
    ]);
    const fromWasm = resampleOnto(wasm, volume, [21, 9, 9], target, { fill: -5 });
    const fromReference = resampleOnto(reference, volume, [21, 9, 9], target, { fill: -5 });
    assertClose(fromWasm.data, fromReference.data, 1e-5, 'aligned');
    assert.ok(fromWasm.data.includes(-5), 'has fill voxels');
  });

  it('copies labels onto a reference grid by nearest neighbour', () => {
    const labels = volumeOf([6, 6, 6], (i) => (i < 3 ? 4 : 9));
    const reference2mm = Volume.zeros(
      [3, 3, 3],
      affineFromRows([
        [2, 0, 0, 0.4],
        [0, 2, 0, 0],
        [0, 0, 2, 0],
      ]),
    );
    const result = resampleToReference(wasm, labels, reference2mm, { interpolation: 'nearest' });
    assert.deepEqual(Array.from(result.data.subarray(0, 3)), [4, 4, 9]);
    assert.ok(result.data.every((value) => value === 4 || value === 9));
  });

  it('rejects invalid spacings and interpolations', () => {
    const volume = Volume.zeros([2, 2, 2]);
    assert.throws(
      () => resampleToSpacing(wasm, volume, [1, 0, 1]),
      /spacing \[1, 0, 1\] is invalid/,
    );
    assert.throws(() => resampleToSpacing(wasm, volume, [1, 1]), /spacing \[1, 1\] is invalid/);
    assert.throws(
      () => resampleToSpacing(wasm, volume, 1, { interpolation: 'cubic' as 'linear' }),
      /Interpolation 'cubic' .* is invalid/,
    );
  });
});
