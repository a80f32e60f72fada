import assert from 'node:assert/strict';
import { numel } from '../../src/kernels/common.js';
import { planOverlapLoss, type OverlapLossGeometry } from '../../src/kernels/overlap-losses.js';
import { overlapLossReference } from '../../src/kernels/reference/overlap.js';
import { softmaxReference } from '../../src/kernels/reference/softmax.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, randomValues, seededRandom } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// f32 against float64, relative to 1 + |ref|; sums over at most 315 voxels.
const TOLERANCE = 1e-5;

const CASES: OverlapLossGeometry[] = [
  { loss: 'dice', inputShape: [2, 3, 5, 7, 3] },
  { loss: 'dice', inputShape: [1, 2, 9, 7], includeBackground: false, reduction: 'sum' },
  { loss: 'dice', inputShape: [2, 3, 4, 5], squaredPred: true, batch: true },
  { loss: 'dice', inputShape: [2, 4, 11], jaccard: true, reduction: 'none' },
  { loss: 'generalizedDice', inputShape: [2, 4, 5, 6] },
  {
    loss: 'generalizedDice',
    inputShape: [2, 3, 4, 5],
    weightType: 'simple',
    batch: true,
    reduction: 'sum',
  },
  {
    loss: 'generalizedDice',
    inputShape: [3, 3, 13],
    weightType: 'uniform',
    includeBackground: false,
    reduction: 'none',
  },
  { loss: 'tversky', inputShape: [2, 3, 5, 4], alpha: 0.3, beta: 0.7 },
  { loss: 'tversky', inputShape: [1, 2, 3, 4, 5], reduction: 'none', smoothNr: 0, smoothDr: 1e-6 },
];

function inputsFor(geometry: OverlapLossGeometry, seed: number) {
  const shape = geometry.inputShape;
  const [n, c] = [shape[0]!, shape[1]!];
  const spatial = numel(shape.slice(2));
  const p = Float32Array.from(
    softmaxReference(randomValues(numel(shape), seed, -2, 2), shape, 1, true).map(Math.exp),
  );
  const random = seededRandom(seed + 1);
  // The last class never appears, so generalized Dice meets a class with no voxels.
  const labels = Int32Array.from({ length: n * spatial }, () => Math.floor(random() * (c - 1)));
  return { p, labels };
}

describe('overlap loss kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  CASES.forEach((geometry, k) => {
    it(`${geometry.loss} ${geometry.reduction ?? 'mean'} on [${geometry.inputShape}]`, async () => {
      const { p, labels } = inputsFor(geometry, 10 + k);
      const plan = planOverlapLoss(geometry, LIMITS);
      const none = geometry.reduction === 'none';
      const dLoss = none ? randomValues(plan.lossElements, 30 + k) : Float32Array.of(0.8);
      const expected = overlapLossReference(geometry, p, labels, dLoss);
      assert.equal(expected.loss.length, plan.lossElements);
      const b = {
        p: gpu.upload('p', p),
        labels: gpu.upload('labels', labels),
        sums: gpu.createBuffer('sums', plan.pairs * 16),
        dLoss: gpu.upload('dloss', dLoss),
        loss: gpu.createBuffer('loss', plan.lossElements * 4),
        coefficients: gpu.createBuffer('coefficients', plan.pairs * 8),
        dp: gpu.createBuffer('dp', p.byteLength),
      };
      const run = async (step: typeof plan.sums, buffers: GPUBuffer[]) =>
        gpu.run(await gpu.kernel(step.spec), buffers, step.workgroups);
      await run(plan.sums, [b.p, b.labels, b.sums]);
      await run(plan.loss, [b.sums, b.dLoss, b.loss, b.coefficients]);
      await run(plan.backward, [b.p, b.labels, b.coefficients, b.dp]);
      assert.ok(
        maxMixedError(await gpu.readF32(b.loss, plan.lossElements), expected.loss) <= TOLERANCE,
        'loss',
      );
      assert.ok(
        maxMixedError(await gpu.readF32(b.dp, p.length), expected.grad) <= TOLERANCE,
        'gradient',
      );
      for (const buffer of Object.values(b)) buffer.destroy();
    });
  });

  it('rejects bad settings', () => {
    const base: OverlapLossGeometry = { loss: 'dice', inputShape: [1, 1, 4] };
    assert.throws(
      () => planOverlapLoss({ ...base, includeBackground: false }, LIMITS),
      /at least 2 classes/,
    );
    assert.throws(
      () => planOverlapLoss({ ...base, inputShape: [2, 3] }, LIMITS),
      /\[N, C, \.\.\.spatial\]/,
    );
    assert.throws(
      () => planOverlapLoss({ ...base, loss: 'lovasz' as 'dice' }, LIMITS),
      /Unknown overlap loss/,
    );
    assert.throws(() => planOverlapLoss({ ...base, alpha: -1 }, LIMITS), /alpha/);
  });
});

describe('overlap loss references', () => {
  CASES.forEach((geometry, k) => {
    it(`${geometry.loss} gradient matches central differences`, () => {
      const { p, labels } = inputsFor(geometry, 50 + k);
      const x = Array.from(p);
      const scores = overlapLossReference(geometry, x, labels, [1]).loss.length;
      const dLoss = Array.from(randomValues(scores, 60 + k));
      const { grad } = overlapLossReference(geometry, x, labels, dLoss);
      for (const i of [0, 3, x.length - 1]) {
        const loss = (v: number) => {
          const copy = [...x];
          copy[i] = v;
          const out = overlapLossReference(geometry, copy, labels, dLoss).loss;
          return out.reduce((s, value, j) => s + value * (scores > 1 ? dLoss[j]! : dLoss[0]!), 0);
        };
        const numeric = (loss(x[i]! + 1e-6) - loss(x[i]! - 1e-6)) / 2e-6;
        assert.ok(Math.abs(numeric - grad[i]!) < 1e-6, `element ${i}`);
      }
    });
  });
});
