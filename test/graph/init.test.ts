import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { UserError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { initialise, sampleInit, Xoshiro128 } from '../../src/graph/init.js';
import type { InitSpec } from '../../src/graph/init-spec.js';
import { layer } from '../../src/graph/layers.js';

function smallNet(extraLayer: boolean) {
  const builder = new GraphBuilder();
  let x = builder.input('x', [2, 3, 8, 8]);
  x = layer(builder, 'conv', x, { outChannels: 16, kernelSize: 3 }, 'conv1');
  if (extraLayer) x = layer(builder, 'conv', x, { outChannels: 16, kernelSize: 1 }, 'extra');
  x = layer(builder, 'batchNorm', x, {}, 'bn1');
  x = layer(builder, 'prelu', x, {}, 'act');
  x = layer(builder, 'flatten', x);
  layer(builder, 'linear', x, { outFeatures: 10 }, 'fc');
  return builder.graph;
}

function sample(spec: InitSpec, count = 20000, seed = 7): Float32Array {
  const out = new Float32Array(count);
  sampleInit(spec, out, new Xoshiro128(seed, 'test'));
  return out;
}

function moments(values: Float32Array) {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

describe('parameter initialisation', () => {
  it('is deterministic for one seed', () => {
    const first = initialise(smallNet(false), 42);
    const second = initialise(smallNet(false), 42);
    for (const [name, values] of first) assert.deepEqual(second.get(name), values, name);
  });

  it('changes with the seed', () => {
    const first = initialise(smallNet(false), 1).get('conv1.weight');
    const second = initialise(smallNet(false), 2).get('conv1.weight');
    assert.notDeepEqual(first, second);
  });

  it('adding a layer leaves other layers unchanged', () => {
    const without = initialise(smallNet(false), 3);
    const withExtra = initialise(smallNet(true), 3);
    assert.deepEqual(withExtra.get('conv1.weight'), without.get('conv1.weight'));
    assert.deepEqual(withExtra.get('fc.bias'), without.get('fc.bias'));
    assert.ok(withExtra.has('extra.weight'));
  });

  it('follows PyTorch defaults for conv, norm and prelu', () => {
    const values = initialise(smallNet(false), 5);
    const bound = 1 / Math.sqrt(3 * 3 * 3);
    const weight = moments(values.get('conv1.weight')!);
    assert.ok(weight.min >= -bound, `conv weight in ±${bound}`);
    assert.ok(weight.max <= bound, `conv weight in ±${bound}`);
    const bias = moments(values.get('conv1.bias')!);
    assert.ok(bias.min >= -bound, 'conv bias shares the weight fan-in');
    assert.ok(bias.max <= bound, 'conv bias shares the weight fan-in');
    assert.deepEqual([...values.get('bn1.weight')!], new Array(16).fill(1));
    assert.deepEqual([...values.get('bn1.bias')!], new Array(16).fill(0));
    assert.deepEqual([...values.get('bn1.running_mean')!], new Array(16).fill(0));
    assert.deepEqual([...values.get('bn1.running_var')!], new Array(16).fill(1));
    assert.deepEqual([...values.get('bn1.num_batches_tracked')!], [0]);
    assert.deepEqual([...values.get('act.weight')!], [0.25]);
  });

  it('kaiming uniform with a = sqrt(5) has bound 1 / sqrt(fanIn)', () => {
    const stats = moments(sample({ kind: 'kaimingUniform', a: Math.sqrt(5), fanIn: 25 }));
    assert.ok(stats.min >= -0.2);
    assert.ok(stats.max <= 0.2);
    assert.ok(stats.max > 0.199, 'fills the interval');
    assert.ok(stats.min < -0.199, 'fills the interval');
    assert.ok(Math.abs(stats.mean) < 0.005);
    assert.ok(Math.abs(stats.std - 0.2 / Math.sqrt(3)) < 0.002);
  });

  it('xavier uniform has bound sqrt(6 / (fanIn + fanOut))', () => {
    const stats = moments(sample({ kind: 'xavierUniform', gain: 1, fanIn: 8, fanOut: 24 }));
    const bound = Math.sqrt(6 / 32);
    assert.ok(stats.min >= -bound);
    assert.ok(stats.max <= bound);
    assert.ok(Math.abs(stats.std - bound / Math.sqrt(3)) < 0.005);
  });

  it('normal has the requested mean and std', () => {
    const stats = moments(sample({ kind: 'normal', mean: 1, std: 0.02 }));
    assert.ok(Math.abs(stats.mean - 1) < 0.001);
    assert.ok(Math.abs(stats.std - 0.02) < 0.001);
  });

  it('normal fills an odd-length tensor', () => {
    const values = sample({ kind: 'normal', mean: 3, std: 1 }, 5);
    for (const value of values) assert.ok(Number.isFinite(value));
    assert.notEqual(values[4], 0);
  });

  it('truncated normal stays within bounds', () => {
    const stats = moments(sample({ kind: 'truncatedNormal', mean: 0, std: 1, low: -0.5, high: 2 }));
    assert.ok(stats.min >= -0.5);
    assert.ok(stats.max <= 2);
    assert.ok(stats.min < -0.49, 'reaches both ends');
    assert.ok(stats.max > 1.9, 'reaches both ends');
    // Mean of N(0, 1) truncated to [-0.5, 2]: (phi(-0.5) - phi(2)) / (Phi(2) - Phi(-0.5)) ≈ 0.4458.
    assert.ok(Math.abs(stats.mean - 0.4458) < 0.01, `mean ${stats.mean}`);
  });

  it('uniform covers [low, high)', () => {
    const stats = moments(sample({ kind: 'uniform', low: 2, high: 3 }));
    assert.ok(stats.min >= 2);
    assert.ok(stats.max < 3);
    assert.ok(Math.abs(stats.mean - 2.5) < 0.01);
  });

  for (const seed of [-1, 1.5, 2 ** 32]) {
    it(`rejects seed ${seed}`, () => {
      assert.throws(() => initialise(smallNet(false), seed), UserError);
    });
  }
});
