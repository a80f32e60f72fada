import assert from 'node:assert/strict';
import { numel } from '../../src/kernels/common.js';
import {
  normAffineElements,
  normStatsElements,
  planBatchNormRunning,
  planNormAffineGrad,
  planNormApply,
  planNormBackward,
  planNormBackwardSums,
  planNormStats,
  type NormGeometry,
} from '../../src/kernels/norm.js';
import {
  normBackwardReference,
  normReference,
  runningStatsReference,
} from '../../src/kernels/reference/norm.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, randomValues } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// f32 against float64, relative to 1 + |ref|; groups of at most 420 values.
const TOLERANCE = 2e-5;

interface Case {
  geometry: NormGeometry;
  /** batchNorm only: normalise with running statistics (evaluation). */
  evaluation?: boolean;
}

const CASES: Case[] = [
  { geometry: { kind: 'batchNorm', inputShape: [2, 3, 5, 4, 3] } },
  { geometry: { kind: 'batchNorm', inputShape: [1, 4, 3, 3, 3], momentum: 0.3, eps: 1e-3 } },
  { geometry: { kind: 'batchNorm', inputShape: [2, 3, 5, 7] }, evaluation: true },
  { geometry: { kind: 'batchNorm', inputShape: [5, 6] } },
  { geometry: { kind: 'instanceNorm', inputShape: [1, 3, 5, 7, 3] } },
  { geometry: { kind: 'instanceNorm', inputShape: [2, 2, 4, 5], affine: true } },
  { geometry: { kind: 'groupNorm', inputShape: [2, 6, 5, 3, 2], groups: 3 } },
  { geometry: { kind: 'groupNorm', inputShape: [1, 4, 7, 3], groups: 1, eps: 1e-3 } },
  { geometry: { kind: 'layerNorm', inputShape: [3, 5, 7] } },
  { geometry: { kind: 'layerNorm', inputShape: [2, 3, 5, 4], normalizedDims: 3 } },
];

describe('normalisation kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  async function dispatch(
    plan: { spec: Parameters<Gpu['kernel']>[0]; workgroups: number },
    buffers: GPUBuffer[],
  ) {
    await gpu.run(await gpu.kernel(plan.spec), buffers, plan.workgroups);
  }

  for (const { geometry, evaluation = false } of CASES) {
    const label = `${geometry.kind} ${evaluation ? 'evaluation' : 'training'} on [${geometry.inputShape}]`;
    it(label, async () => {
      const count = numel(geometry.inputShape);
      const x = randomValues(count, 3, -2, 3);
      const dy = randomValues(count, 4);
      const affineCount = normAffineElements(geometry, LIMITS);
      const weight = affineCount > 0 ? randomValues(affineCount, 5, 0.5, 1.5) : undefined;
      const bias = affineCount > 0 ? randomValues(affineCount, 6) : undefined;
      const channels = geometry.inputShape[1]!;
      const runningMean = randomValues(channels, 7);
      const runningVar = randomValues(channels, 8, 0.5, 2);
      const running = evaluation ? { mean: runningMean, variance: runningVar } : undefined;

      const b = {
        x: gpu.upload('x', x),
        dy: gpu.upload('dy', dy),
        stats: gpu.createBuffer('stats', normStatsElements(geometry, LIMITS) * 4),
        weight: gpu.upload('weight', weight ?? new Float32Array(1)),
        bias: gpu.upload('bias', bias ?? new Float32Array(1)),
        runningMean: gpu.upload('running mean', runningMean),
        runningVar: gpu.upload('running var', runningVar),
        y: gpu.createBuffer('y', count * 4),
        sums: gpu.createBuffer('sums', normStatsElements(geometry, LIMITS) * 4),
        dx: gpu.createBuffer('dx', count * 4),
        dweight: gpu.createBuffer('dweight', Math.max(1, affineCount) * 4),
        dbias: gpu.createBuffer('dbias', Math.max(1, affineCount) * 4),
      };
      const isBatch = geometry.kind === 'batchNorm';
      if (evaluation) {
        await dispatch(planBatchNormRunning(geometry, false, LIMITS), [
          b.stats,
          b.runningMean,
          b.runningVar,
        ]);
      } else {
        await dispatch(planNormStats(geometry, LIMITS), [b.x, b.stats]);
        if (isBatch) {
          await dispatch(planBatchNormRunning(geometry, true, LIMITS), [
            b.stats,
            b.runningMean,
            b.runningVar,
          ]);
        }
      }
      await dispatch(planNormApply(geometry, LIMITS), [b.x, b.stats, b.weight, b.bias, b.y]);
      const expected = normReference(geometry, x, weight, bias, running);
      assert.ok(maxMixedError(await gpu.readF32(b.y, count), expected.y) <= TOLERANCE, 'forward');

      if (isBatch && !evaluation) {
        const updated = runningStatsReference(geometry, expected, runningMean, runningVar);
        const mean = await gpu.readF32(b.runningMean, channels);
        const variance = await gpu.readF32(b.runningVar, channels);
        assert.ok(maxMixedError(mean, updated.mean) <= TOLERANCE, 'running mean');
        assert.ok(maxMixedError(variance, updated.variance) <= TOLERANCE, 'running var');
      }

      if (!evaluation)
        await dispatch(planNormBackwardSums(geometry, LIMITS), [
          b.x,
          b.dy,
          b.stats,
          b.weight,
          b.sums,
        ]);
      const backward = planNormBackward(geometry, !evaluation, LIMITS);
      await dispatch(backward, [b.x, b.dy, b.stats, b.weight, b.sums, b.dx]);
      const grads = normBackwardReference(geometry, x, dy, weight, running);
      assert.ok(maxMixedError(await gpu.readF32(b.dx, count), grads.dx) <= TOLERANCE, 'dx');
      if (affineCount > 0) {
        await dispatch(planNormAffineGrad(geometry, LIMITS), [
          b.x,
          b.dy,
          b.stats,
          b.dweight,
          b.dbias,
        ]);
        const dweight = await gpu.readF32(b.dweight, affineCount);
        const dbias = await gpu.readF32(b.dbias, affineCount);
        assert.ok(maxMixedError(dweight, grads.dweight) <= TOLERANCE, 'dweight');
        assert.ok(maxMixedError(dbias, grads.dbias) <= TOLERANCE, 'dbias');
      }
      if (isBatch && !evaluation && affineCount > 0) {
        // The sums pass writes the weight and bias gradients itself, and dx is unchanged.
        for (const buffer of [b.dweight, b.dbias]) gpu.write(buffer, new Float32Array(affineCount));
        const sums = planNormBackwardSums(geometry, LIMITS, true);
        await dispatch(sums, [b.x, b.dy, b.stats, b.weight, b.sums, b.dweight, b.dbias]);
        await dispatch(backward, [b.x, b.dy, b.stats, b.weight, b.sums, b.dx]);
        const dx = await gpu.readF32(b.dx, count);
        const dweight = await gpu.readF32(b.dweight, affineCount);
        const dbias = await gpu.readF32(b.dbias, affineCount);
        assert.ok(maxMixedError(dx, grads.dx) <= TOLERANCE, 'dx from the affine sums');
        assert.ok(maxMixedError(dweight, grads.dweight) <= TOLERANCE, 'dweight from the sums');
        assert.ok(maxMixedError(dbias, grads.dbias) <= TOLERANCE, 'dbias from the sums');
      }
      for (const buffer of Object.values(b)) buffer.destroy();
    });
  }

  it('gives identical bits on two runs', async () => {
    const geometry: NormGeometry = { kind: 'batchNorm', inputShape: [2, 4, 6, 7, 5] };
    const count = numel(geometry.inputShape);
    const statsBytes = normStatsElements(geometry, LIMITS) * 4;
    const x = gpu.upload('x', randomValues(count, 21, -3, 3));
    const dy = gpu.upload('dy', randomValues(count, 22));
    const weight = gpu.upload('weight', randomValues(4, 23));
    const results: Uint32Array[] = [];
    for (let run = 0; run < 2; run++) {
      const stats = gpu.createBuffer('stats', statsBytes);
      const sums = gpu.createBuffer('sums', statsBytes);
      await dispatch(planNormStats(geometry, LIMITS), [x, stats]);
      await dispatch(planNormBackwardSums(geometry, LIMITS), [x, dy, stats, weight, sums]);
      const values = [...(await gpu.readU32(stats)), ...(await gpu.readU32(sums))];
      results.push(Uint32Array.from(values));
      stats.destroy();
      sums.destroy();
    }
    assert.deepEqual(results[1], results[0]);
    for (const buffer of [x, dy, weight]) buffer.destroy();
  });

  it('rejects bad settings', () => {
    const group: NormGeometry = { kind: 'groupNorm', inputShape: [1, 6, 4], groups: 4 };
    assert.throws(() => planNormStats(group, LIMITS), /dividing the 6 channels/);
    const layer: NormGeometry = { kind: 'layerNorm', inputShape: [2, 3], normalizedDims: 3 };
    assert.throws(() => planNormStats(layer, LIMITS), /normalizedDims/);
    const single: NormGeometry = { kind: 'batchNorm', inputShape: [1, 3] };
    assert.throws(() => planBatchNormRunning(single, true, LIMITS), /more than 1 value/);
    const kind = { kind: 'weightNorm' as 'batchNorm', inputShape: [1, 3] };
    assert.throws(() => planNormStats(kind, LIMITS), /Unknown normalisation/);
    const instance: NormGeometry = { kind: 'instanceNorm', inputShape: [1, 3, 4] };
    assert.throws(() => planNormAffineGrad(instance, LIMITS), /without affine/);
    assert.throws(() => planNormBackwardSums(instance, LIMITS, true), /Only an affine batchNorm/);
  });
});

describe('normalisation references', () => {
  for (const { geometry, evaluation } of CASES.filter((_, k) => [0, 2, 6, 9].includes(k))) {
    it(`${geometry.kind} gradients match central differences`, () => {
      const count = numel(geometry.inputShape);
      const x = Array.from(randomValues(count, 13, -2, 2));
      const dy = randomValues(count, 14);
      const affineCount =
        geometry.kind === 'layerNorm'
          ? numel(geometry.inputShape.slice(-(geometry.normalizedDims ?? 1)))
          : geometry.inputShape[1]!;
      const weight = Array.from(randomValues(affineCount, 15, 0.5, 1.5));
      const bias = Array.from(randomValues(affineCount, 16));
      const channels = geometry.inputShape[1]!;
      const running = evaluation
        ? { mean: randomValues(channels, 17), variance: randomValues(channels, 18, 0.5, 2) }
        : undefined;
      const loss = (xs: number[], ws: number[]) =>
        normReference(geometry, xs, ws, bias, running).y.reduce((s, v, i) => s + v * dy[i]!, 0);
      const grads = normBackwardReference(geometry, x, dy, weight, running);
      const h = 1e-6;
      for (const i of [0, 5, count - 1]) {
        const plus = [...x];
        const minus = [...x];
        plus[i]! += h;
        minus[i]! -= h;
        const numeric = (loss(plus, weight) - loss(minus, weight)) / (2 * h);
        assert.ok(Math.abs(numeric - grads.dx[i]!) < 1e-6, `dx ${i}`);
      }
      const plus = [...weight];
      const minus = [...weight];
      plus[0]! += h;
      minus[0]! -= h;
      const numeric = (loss(x, plus) - loss(x, minus)) / (2 * h);
      assert.ok(Math.abs(numeric - grads.dweight[0]!) < 1e-6, 'dweight');
    });
  }
});
