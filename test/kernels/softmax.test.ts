import assert from 'node:assert/strict';
import { numel, type Shape } from '../../src/kernels/common.js';
import { softmaxBackwardReference, softmaxReference } from '../../src/kernels/reference/softmax.js';
import { planSoftmax, planSoftmaxBackward } from '../../src/kernels/softmax.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, randomValues, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// f32 against float64, relative to 1 + |ref|.
const TOLERANCE = 2e-6;

const CASES: { shape: Shape; axis: number }[] = [
  { shape: [4, 10], axis: 1 },
  { shape: [1, 3, 5, 7, 3], axis: 1 },
  { shape: [2, 5, 3], axis: -1 },
  { shape: [7, 3, 2], axis: 0 },
];

describe('softmax kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const log of [false, true]) {
    for (const { shape, axis } of CASES) {
      it(`${log ? 'log-softmax' : 'softmax'} of [${shape}] over axis ${axis}`, async () => {
        const count = numel(shape);
        const x = randomValues(count, 13, -20, 20);
        const positive = axis < 0 ? axis + shape.length : axis;
        const expected = softmaxReference(x, shape, positive, log);
        const [y] = await runPlan(gpu, planSoftmax({ shape, axis, log }, LIMITS), [x], [count]);
        assert.ok(maxMixedError(y!, expected) <= TOLERANCE, 'forward');

        const dy = randomValues(count, 14);
        const plan = planSoftmaxBackward({ shape, axis, log }, LIMITS);
        const [dx] = await runPlan(gpu, plan, [y!, dy], [count]);
        const reference = softmaxBackwardReference(y!, dy, shape, positive, log);
        assert.ok(maxMixedError(dx!, reference) <= TOLERANCE, 'backward');
      });
    }
  }

  it('rejects an axis out of range', () => {
    assert.throws(() => planSoftmax({ shape: [2, 3], axis: 2 }, LIMITS), /axis 2 is out of range/);
  });
});

describe('softmax reference', () => {
  it('gradients match central differences', () => {
    for (const log of [false, true]) {
      const shape = [2, 3];
      const x = [0.3, -1.2, 2.0, 0.7, 0.1, -0.4];
      const dy = [0.5, -0.25, 1, 2, -1, 0.3];
      const y = softmaxReference(x, shape, 1, log);
      const analytic = softmaxBackwardReference(y, dy, shape, 1, log);
      x.forEach((value, i) => {
        const loss = (v: number) => {
          const copy = [...x];
          copy[i] = v;
          return softmaxReference(copy, shape, 1, log).reduce((s, out, k) => s + out * dy[k]!, 0);
        };
        const numeric = (loss(value + 1e-6) - loss(value - 1e-6)) / 2e-6;
        assert.ok(Math.abs(numeric - analytic[i]!) < 1e-7, `${log ? 'log' : ''}softmax ${i}`);
      });
    }
  });
});
