import assert from 'node:assert/strict';
import { dropoutSeed, planDropout, SEED_BYTES } from '../../src/kernels/dropout.js';
import { dropoutMask } from '../../src/kernels/reference/dropout.js';
import { acquireGpu, BufferUsage, type Gpu } from '../../src/runtime/index.js';
import { randomValues } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };

describe('dropout kernel', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  async function run(x: Float32Array, p: number, seed: Uint32Array): Promise<Float32Array> {
    const plan = planDropout([x.length], p, LIMITS);
    const input = gpu.upload('x', x);
    const output = gpu.createBuffer('y', x.byteLength);
    const uniform = gpu.createBuffer(
      'seed',
      SEED_BYTES,
      BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    );
    gpu.write(uniform, seed);
    await gpu.run(await gpu.kernel(plan.spec), [input, output, uniform], plan.workgroups);
    const y = await gpu.readF32(output, x.length);
    for (const buffer of [input, output, uniform]) buffer.destroy();
    return y;
  }

  for (const p of [0.1, 0.5, 0.8]) {
    it(`drops with probability ${p}`, async () => {
      const count = 20001;
      const x = randomValues(count, 1, 0.5, 1.5);
      const seed = dropoutSeed(42, 3, 1);
      const y = await run(x, p, seed);
      const mask = dropoutMask(count, p, seed);
      const scale = Math.fround(1 / (1 - p));
      for (let i = 0; i < count; i++) {
        assert.equal(y[i], mask[i] ? Math.fround(x[i]! * scale) : 0, `element ${i}`);
      }
      // The kept fraction lies within 4 standard deviations of 1 - p.
      const kept = mask.reduce((a, b) => a + b, 0) / count;
      assert.ok(Math.abs(kept - (1 - p)) < 4 * Math.sqrt((p * (1 - p)) / count), `kept ${kept}`);
    });
  }

  it('repeats a seed and varies with it', async () => {
    const x = new Float32Array(4096).fill(1);
    const first = await run(x, 0.5, dropoutSeed(7, 1, 0));
    const again = await run(x, 0.5, dropoutSeed(7, 1, 0));
    const nextStep = await run(x, 0.5, dropoutSeed(7, 2, 0));
    const otherLayer = await run(x, 0.5, dropoutSeed(7, 1, 1));
    assert.deepEqual(again, first);
    const differ = (a: Float32Array, b: Float32Array) => a.filter((v, i) => v !== b[i]).length;
    assert.ok(differ(first, nextStep) > 1500, 'another step draws another mask');
    assert.ok(differ(first, otherLayer) > 1500, 'another layer draws another mask');
  });

  it('rejects p outside [0, 1)', () => {
    assert.throws(() => planDropout([4], 1, LIMITS), /dropout p/);
    assert.throws(() => planDropout([4], -0.1, LIMITS), /dropout p/);
  });
});
