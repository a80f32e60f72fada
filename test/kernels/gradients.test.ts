import assert from 'node:assert/strict';
import {
  normPartialCount,
  planAccumulate,
  planClipByValue,
  planClipNormFactor,
  planScaleBy,
  planSumSquares,
} from '../../src/kernels/gradients.js';
import { clipGradNormReference } from '../../src/kernels/reference/optimizer.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxAbsError, maxMixedError, randomValues } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };

describe('gradient kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  async function runInPlace(plan: ReturnType<typeof planAccumulate>, buffers: GPUBuffer[]) {
    await gpu.run(await gpu.kernel(plan.spec), buffers, plan.workgroups);
  }

  for (const elements of [33, 48]) {
    it(`accumulates and clips by value ${elements} values`, async () => {
      const first = randomValues(elements, 1, -2, 2);
      const second = randomValues(elements, 2, -2, 2);
      const total = gpu.upload('total', first);
      const grad = gpu.upload('grad', second);
      await runInPlace(planAccumulate(elements, LIMITS), [grad, total]);
      const summed = await gpu.readF32(total, elements);
      assert.equal(
        maxAbsError(
          summed,
          first.map((v, i) => v + second[i]!),
        ),
        0,
      );

      await runInPlace(planClipByValue(elements, 1.5, LIMITS), [total]);
      const clipped = await gpu.readF32(total, elements);
      assert.equal(
        maxAbsError(
          clipped,
          summed.map((v) => Math.min(1.5, Math.max(-1.5, v))),
        ),
        0,
      );
      total.destroy();
      grad.destroy();
    });
  }

  // Gradient sizes across one and several 4096-element chunks, with odd sizes.
  for (const maxNorm of [0.5, 1e6]) {
    it(`clips by global norm ${maxNorm}`, async () => {
      const sizes = [7, 4096, 9001];
      const grads = sizes.map((n, k) => randomValues(n, 20 + k, -0.1, 0.1));
      const partialCounts = sizes.map(normPartialCount);
      const partials = gpu.createBuffer('partials', partialCounts.reduce((a, b) => a + b) * 4);
      const result = gpu.createBuffer('result', 8);
      const buffers = grads.map((g, k) => gpu.upload(`grad ${k}`, g));
      let offset = 0;
      for (const [k, n] of sizes.entries()) {
        await runInPlace(planSumSquares(n, offset, LIMITS), [buffers[k]!, partials]);
        offset += partialCounts[k]!;
      }
      await runInPlace(planClipNormFactor(offset, maxNorm), [partials, result]);
      for (const [k, n] of sizes.entries()) {
        await runInPlace(planScaleBy(n, 1, LIMITS), [buffers[k]!, result]);
      }
      const expected = grads.map((g) => Float64Array.from(g));
      const norm = clipGradNormReference(expected, maxNorm);
      const [actualNorm] = await gpu.readF32(result, 1);
      assert.ok(Math.abs(actualNorm! - norm) <= 1e-6 * norm, 'norm');
      for (const [k, buffer] of buffers.entries()) {
        const values = await gpu.readF32(buffer, sizes[k]);
        assert.ok(maxMixedError(values, expected[k]!) <= 1e-6, `gradient ${k}`);
        buffer.destroy();
      }
      partials.destroy();
      result.destroy();
    });
  }

  it('rejects negative limits', () => {
    assert.throws(() => planClipByValue(4, -1, LIMITS), /clipValue/);
    assert.throws(() => planClipNormFactor(4, Number.NaN), /maxNorm/);
  });
});
