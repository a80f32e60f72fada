import assert from 'node:assert/strict';
import { numel } from '../../src/kernels/common.js';
import {
  planPointwiseLoss,
  planPointwiseLossBackward,
  POINTWISE_LOSSES,
  type PointwiseLossGeometry,
} from '../../src/kernels/losses.js';
import { pointwiseLossReference } from '../../src/kernels/reference/losses.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, randomValues, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// f32 against float64, relative to 1 + |ref|; sums of at most 420 terms.
const TOLERANCE = 1e-5;

const CASES: PointwiseLossGeometry[] = [
  { loss: 'mse', shape: [2, 3, 5, 7] },
  { loss: 'mse', shape: [4, 1], reduction: 'sum' },
  { loss: 'l1', shape: [1, 3, 5, 7, 3] },
  { loss: 'l1', shape: [2, 8], reduction: 'none' },
  { loss: 'smoothL1', shape: [3, 5, 7], beta: 0.5 },
  { loss: 'smoothL1', shape: [3, 4], beta: 0, reduction: 'sum' },
  { loss: 'huber', shape: [3, 5, 7], delta: 0.3, reduction: 'none' },
  { loss: 'huber', shape: [2, 3, 4, 5] },
  { loss: 'bceWithLogits', shape: [4, 2] },
  { loss: 'bceWithLogits', shape: [1, 1, 5, 7, 3], reduction: 'sum' },
  { loss: 'klDiv', shape: [3, 5], reduction: 'batchmean' },
  { loss: 'focal', shape: [2, 3, 5, 4] },
  { loss: 'focal', shape: [3, 7], gamma: 1.5, alpha: 0.25, reduction: 'none' },
  { loss: 'klDiv', shape: [3, 5, 4], logTarget: true, reduction: 'none' },
];

/** Targets in each loss's domain: probabilities for BCE and KLDiv, any value otherwise. */
function targetFor(geometry: PointwiseLossGeometry, count: number): Float32Array {
  if (geometry.loss === 'bceWithLogits') return randomValues(count, 2, 0, 1);
  // One-hot targets, as the focal loss is used with.
  if (geometry.loss === 'focal') return randomValues(count, 2, 0, 1).map(Math.round);
  if (geometry.loss === 'klDiv') {
    const t = randomValues(count, 2, 0, 1);
    if (geometry.logTarget) return t.map((v) => Math.log(v + 0.01));
    // A few zero probabilities exercise the t = 0 convention.
    return t.map((v, i) => (i % 7 === 0 ? 0 : v));
  }
  return randomValues(count, 2, -2, 2);
}

describe('pointwise loss kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  it('covers every loss of the table', () => {
    assert.deepEqual([...new Set(CASES.map((c) => c.loss))].sort(), [...POINTWISE_LOSSES].sort());
  });

  for (const geometry of CASES) {
    it(`${geometry.loss} ${geometry.reduction ?? 'mean'} on [${geometry.shape}]`, async () => {
      const count = numel(geometry.shape);
      const x = randomValues(count, 1, -3, 3);
      const target = targetFor(geometry, count);
      const none = geometry.reduction === 'none';
      const dLoss = none ? randomValues(count, 3) : Float32Array.of(0.7);
      const expected = pointwiseLossReference(geometry, x, target, dLoss);
      const plan = planPointwiseLoss(geometry, LIMITS);
      let [loss] = await runPlan(gpu, plan.elementwise, [x, target], [count]);
      if (plan.reduce) [loss] = await runPlan(gpu, plan.reduce, [loss!], [1]);
      assert.ok(maxMixedError(loss!, expected.loss) <= TOLERANCE, 'loss');
      const backward = planPointwiseLossBackward(geometry, LIMITS);
      const [dx] = await runPlan(gpu, backward, [x, target, dLoss], [count]);
      assert.ok(maxMixedError(dx!, expected.grad) <= TOLERANCE, 'gradient');
    });
  }

  it('rejects bad settings', () => {
    const batchmean: PointwiseLossGeometry = { loss: 'mse', shape: [2], reduction: 'batchmean' };
    assert.throws(() => planPointwiseLoss(batchmean, LIMITS), /invalid for mse/);
    assert.throws(
      () => planPointwiseLoss({ loss: 'huber', shape: [2], delta: 0 }, LIMITS),
      /delta/,
    );
    const unknown = { loss: 'hinge' as 'mse', shape: [2] };
    assert.throws(() => planPointwiseLoss(unknown, LIMITS), /Unknown pointwise loss 'hinge'/);
  });
});

describe('pointwise loss references', () => {
  for (const geometry of CASES.filter((c) => c.reduction !== 'none')) {
    it(`${geometry.loss} gradient matches central differences`, () => {
      const count = numel(geometry.shape);
      const x = Array.from(randomValues(count, 5, -3, 3));
      const target = targetFor(geometry, count);
      const { grad } = pointwiseLossReference(geometry, x, target, [1]);
      for (const i of [0, 1, count - 1]) {
        const loss = (v: number) => {
          const copy = [...x];
          copy[i] = v;
          return pointwiseLossReference(geometry, copy, target, [1]).loss[0]!;
        };
        const numeric = (loss(x[i]! + 1e-6) - loss(x[i]! - 1e-6)) / 2e-6;
        assert.ok(Math.abs(numeric - grad[i]!) < 1e-6, `element ${i}`);
      }
    });
  }
});
