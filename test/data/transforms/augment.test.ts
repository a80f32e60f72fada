import assert from 'node:assert/strict';

import {
  addNoise,
  adjustGamma,
  applyBiasField,
  biasFieldTermCount,
  flipAxes,
  randomAugment,
  transformAffine,
  type AugmentOptions,
} from '../../../src/data/transforms/augment.js';
import { Xoshiro128 } from '../../../src/data/transforms/random.js';
import { affineFromRows, Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { assertClose, pseudoRandom, reference, volumeOf, wasmKernels } from './helpers.js';

const ALL: AugmentOptions = {
  affine: { degrees: 8, scale: 0.05, translationMm: 2 },
  flip: { probability: 0.5, axes: [0, 1] },
  biasField: { order: 2, coefficient: 0.3 },
  gamma: { logRange: 0.3 },
  noise: { min: 0.01, max: 0.1 },
};

describe('augmentation', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });
  const image = new Volume(
    pseudoRandom(11 * 9 * 7, 4).map((v) => 1 + v),
    [11, 9, 7],
    affineFromRows([]),
  );

  it('draws the same stream for the same seed', () => {
    const first = new Xoshiro128(7);
    const second = new Xoshiro128(7);
    const other = new Xoshiro128(8);
    const a = Array.from({ length: 8 }, () => first.nextU32());
    assert.deepEqual(
      a,
      Array.from({ length: 8 }, () => second.nextU32()),
    );
    assert.notDeepEqual(
      a,
      Array.from({ length: 8 }, () => other.nextU32()),
    );
    assert.ok(a.every((value) => Number.isInteger(value) && value >= 0 && value < 2 ** 32));
  });

  it('draws uniform floats with the expected mean', () => {
    const random = new Xoshiro128(123);
    let sum = 0;
    for (let i = 0; i < 20000; i++) sum += random.nextFloat();
    assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01, `mean ${sum / 20000}`);
  });

  it('adds noise identical to the TypeScript stream', () => {
    const zeros = Volume.zeros([101, 1, 1]);
    const fromWasm = addNoise(wasm, zeros, 1, 99).data;
    assertClose(fromWasm, addNoise(reference, zeros, 1, 99).data, 1e-6, 'wasm vs reference');
    const [first, second] = new Xoshiro128(99).normalPair();
    assert.ok(Math.abs(fromWasm[0]! - first) < 1e-6);
    assert.ok(Math.abs(fromWasm[1]! - second) < 1e-6);
  });

  it('adds noise of the requested std', () => {
    const noise = addNoise(wasm, Volume.zeros([100, 100, 10]), 2, 5).data;
    const mean = noise.reduce((sum, value) => sum + value, 0) / noise.length;
    const std = Math.sqrt(
      noise.reduce((sum, value) => sum + (value - mean) ** 2, 0) / noise.length,
    );
    assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
    assert.ok(Math.abs(std - 2) < 0.02, `std ${std}`);
  });

  it('maps a ramp through a gamma curve', () => {
    const ramp = volumeOf([5, 1, 1], (i) => 10 + 10 * i);
    const expected = [0, 0.25, 0.5, 0.75, 1].map((t) => 10 + 40 * t ** 2);
    for (const backend of [wasm, reference]) {
      assertClose(adjustGamma(backend, ramp, 2).data, expected, 1e-4, backend.name);
    }
  });

  it('multiplies by exp of the bias polynomial', () => {
    assert.deepEqual([0, 1, 2, 3].map(biasFieldTermCount), [1, 4, 10, 20]);
    const ones = volumeOf([3, 3, 3], () => 1);
    const constant = applyBiasField(wasm, ones, 0, Float64Array.of(0.5));
    assert.ok(constant.data.every((value) => Math.abs(value - Math.exp(0.5)) < 1e-6));
    // Order 1 terms: 1, z, y, x. The x term makes the field exp(0.2 x) with x in [-1, 1].
    const linear = applyBiasField(wasm, ones, 1, Float64Array.of(0, 0, 0, 0.2));
    assertClose(
      [linear.get(0, 1, 1), linear.get(1, 1, 1), linear.get(2, 1, 1)],
      [Math.exp(-0.2), 1, Math.exp(0.2)],
      1e-6,
      'x ramp',
    );
    const coefficients = Float64Array.from({ length: 10 }, (_, i) => 0.05 * (i - 4));
    assertClose(
      applyBiasField(wasm, image, 2, coefficients).data,
      applyBiasField(reference, image, 2, coefficients).data,
      1e-5,
      'wasm vs reference',
    );
    assert.throws(
      () => applyBiasField(wasm, ones, 2, Float64Array.of(1)),
      /needs 10 coefficients; got 1/,
    );
  });

  it('flips data and keeps the affine', () => {
    const volume = volumeOf([3, 2, 1], (i, j) => i + 10 * j);
    const result = flipAxes(wasm, volume, [true, true, false]);
    assert.deepEqual(Array.from(result.data), [12, 11, 10, 2, 1, 0]);
    assert.deepEqual(result.affine, volume.affine);
  });

  it('rotates 90 degrees about z around the centre', () => {
    const volume = volumeOf([5, 5, 1], (i, j) => i + 10 * j);
    const turned = transformAffine(wasm, volume, {
      rotationDegrees: [0, 0, 90],
      scale: [1, 1, 1],
      translationMm: [0, 0, 0],
    });
    // Output point p shows input c + R (p - c): (4, 2) - c = (2, 0) turns into (0, 2) -> (2, 4).
    assert.ok(Math.abs(turned.get(4, 2, 0) - 42) < 1e-4);
    assert.ok(Math.abs(turned.get(2, 2, 0) - 22) < 1e-4);
    const identity = transformAffine(wasm, image, {
      rotationDegrees: [0, 0, 0],
      scale: [1, 1, 1],
      translationMm: [0, 0, 0],
    });
    assertClose(identity.data, image.data, 1e-6, 'identity');
  });

  it('is deterministic by seed', () => {
    const first = randomAugment(wasm, image, ALL, 1234);
    const again = randomAugment(wasm, image, ALL, 1234);
    const other = randomAugment(wasm, image, ALL, 1235);
    assert.deepEqual(first.volume.data, again.volume.data);
    assert.deepEqual(first.applied, again.applied);
    assert.notDeepEqual(first.volume.data, other.volume.data);
  });

  it('gives the reference result for the same seed', () => {
    const fromWasm = randomAugment(wasm, image, ALL, 42);
    const fromReference = randomAugment(reference, image, ALL, 42);
    assert.deepEqual(fromWasm.applied, fromReference.applied);
    assertClose(fromWasm.volume.data, fromReference.volume.data, 1e-4, 'wasm vs reference');
  });

  it('rejects invalid parameters', () => {
    assert.throws(() => addNoise(wasm, image, -1, 0), /Noise std -1 is invalid/);
    assert.throws(() => adjustGamma(wasm, image, 0), /Gamma 0 is invalid/);
    assert.throws(
      () => randomAugment(wasm, image, { flip: { probability: 2 } }, 0),
      /randomAugment option flip\.probability is 2, which is invalid: expected a number in \[0, 1\]/,
    );
    assert.throws(() => randomAugment(wasm, image, {}, 1.5), /Seed 1\.5 is invalid/);
  });
});
