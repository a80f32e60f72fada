import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { clipPercentiles, minMaxScale, zScore } from '../../../src/data/transforms/intensity.js';
import { Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { setLogSink, type LogSink } from '../../../src/log.js';
import { assertClose, pseudoRandom, reference, volumeOf, wasmKernels } from './helpers.js';

const scipy = JSON.parse(
  readFileSync(new URL('../../fixtures/transforms/scipy_reference.json', import.meta.url), 'utf8'),
) as { percentiles: { values: number[]; percents: number[]; results: number[] } };

function moments(data: Float32Array, mask?: Float32Array): { mean: number; std: number } {
  const values = Array.from(data).filter((_, i) => !mask || mask[i] !== 0);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

describe('intensity normalisation', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });

  // 4 * 5 * 7 = 140 voxels: not a multiple of 4 lanes per row, so the scalar tails run too.
  const noisy = new Volume(
    pseudoRandom(140, 3).map((v) => 50 + 20 * v),
    [4, 5, 7],
    new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
  );

  it('computes masked statistics in one pass', () => {
    // 11 voxels: two SIMD steps and a scalar tail, with NaN and infinity in both.
    const data = Float32Array.of(4, -2, NaN, 7, 1, 0, Infinity, 3, 5, -Infinity, 6);
    const mask = Float32Array.of(1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1);
    const masked = [4, -2, 7, 0, 3, 5, 6];
    const mean = masked.reduce((sum, value) => sum + value, 0) / masked.length;
    const variance = masked.reduce((sum, value) => sum + (value - mean) ** 2, 0) / masked.length;
    for (const backend of [wasm, reference]) {
      const statistics = backend.statistics(data, mask);
      assert.equal(statistics.count, 7, backend.name);
      assert.equal(statistics.nonFinite, 3, backend.name);
      assert.equal(statistics.min, -2, backend.name);
      assert.equal(statistics.max, 7, backend.name);
      assert.ok(Math.abs(statistics.mean - mean) < 1e-12, `${backend.name} mean`);
      assert.ok(Math.abs(statistics.variance - variance) < 1e-12, `${backend.name} variance`);
      assert.equal(backend.statistics(data, new Float32Array(11)).count, 0, backend.name);
    }
  });

  it('z-scores to mean 0 and std 1', () => {
    for (const backend of [wasm, reference]) {
      const { mean, std } = moments(zScore(backend, noisy).data);
      assert.ok(Math.abs(mean) < 1e-5, `${backend.name} mean ${mean}`);
      assert.ok(Math.abs(std - 1) < 1e-5, `${backend.name} std ${std}`);
    }
  });

  it('z-scores with statistics from a mask', () => {
    const mask = noisy.withData(noisy.data.map((_, i) => (i % 3 === 0 ? 1 : 0)));
    const result = zScore(wasm, noisy, { mask });
    const { mean, std } = moments(result.data, mask.data);
    assert.ok(Math.abs(mean) < 1e-5, `mean ${mean}`);
    assert.ok(Math.abs(std - 1) < 1e-5, `std ${std}`);
    assertClose(result.data, zScore(reference, noisy, { mask }).data, 1e-5, 'wasm vs reference');
  });

  it('rejects a constant image under z-score, naming it', () => {
    const constant = volumeOf([3, 3, 3], () => 5, undefined, 'flat.nii.gz');
    assert.throws(() => zScore(wasm, constant), /flat\.nii\.gz is constant \(5\) inside the mask/);
  });

  it("writes zeros and warns for a constant image with constant: 'zero'", () => {
    const constant = volumeOf([3, 3, 3], () => 5, undefined, 'flat.nii.gz');
    const messages: string[] = [];
    const previous: LogSink = setLogSink((level, _scope, message) =>
      messages.push(`${level} ${message}`),
    );
    try {
      const result = zScore(wasm, constant, { constant: 'zero' });
      assert.ok(result.data.every((value) => value === 0));
    } finally {
      setLogSink(previous);
    }
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /^warn flat\.nii\.gz is constant/);
  });

  it('rejects NaN voxels, naming the image and the count', () => {
    const broken = volumeOf(
      [2, 2, 2],
      (i, j) => (i === 1 && j === 1 ? NaN : 1),
      undefined,
      'nan.nii',
    );
    assert.throws(() => zScore(wasm, broken), /nan\.nii has 2 NaN or infinite voxel/);
  });

  it('rejects a mask that selects nothing', () => {
    const mask = noisy.withData(new Float32Array(140));
    assert.throws(() => zScore(wasm, noisy, { mask }), /selects no voxel/);
  });

  it('scales min-max onto [0, 1]', () => {
    for (const backend of [wasm, reference]) {
      const result = minMaxScale(backend, noisy).data;
      assert.equal(Math.min(...result), 0);
      assert.ok(Math.abs(Math.max(...result) - 1) < 1e-6);
    }
    const ramp = volumeOf([5, 1, 1], (i) => 2 * i + 1);
    assertClose(minMaxScale(wasm, ramp).data, [0, 0.25, 0.5, 0.75, 1], 1e-7, 'ramp');
  });

  it('writes zeros for a constant image under min-max', () => {
    const constant = volumeOf([5, 1, 1], () => -3, undefined, 'flat.nii');
    const previous = setLogSink(() => {});
    try {
      assert.deepEqual(
        Array.from(minMaxScale(wasm, constant, { constant: 'zero' }).data),
        [0, 0, 0, 0, 0],
      );
    } finally {
      setLogSink(previous);
    }
    assert.throws(
      () => minMaxScale(wasm, constant),
      /flat\.nii is constant \(-3\) inside the mask/,
    );
  });

  it('finds the percentiles numpy finds', () => {
    const { values, percents, results } = scipy.percentiles;
    for (const backend of [wasm, reference]) {
      const qs = percents.map((percent) => percent / 100);
      const found = backend.quantiles(Float32Array.from(values), qs);
      assertClose(found, results, 1e-6, backend.name);
    }
  });

  it('clips to percentiles', () => {
    const ramp = volumeOf([101, 1, 1], (i) => i);
    const result = clipPercentiles(wasm, ramp, { lower: 10, upper: 95 });
    assert.equal(result.get(0, 0, 0), 10);
    assert.equal(result.get(50, 0, 0), 50);
    assert.equal(result.get(100, 0, 0), 95);
    assertClose(
      result.data,
      clipPercentiles(reference, ramp, { lower: 10, upper: 95 }).data,
      0,
      'reference',
    );
  });

  it('rejects invalid percentiles', () => {
    assert.throws(
      () => clipPercentiles(wasm, noisy, { lower: 60, upper: 40 }),
      /Percentiles \[60, 40\] are invalid/,
    );
    assert.throws(
      () => clipPercentiles(wasm, noisy, { upper: 101 }),
      /Percentiles \[0\.5, 101\] are invalid/,
    );
  });
});
