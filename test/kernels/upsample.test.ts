import assert from 'node:assert/strict';
import { numel } from '../../src/kernels/common.js';
import {
  upsampleBackwardReference,
  upsampleReference,
} from '../../src/kernels/reference/upsample.js';
import {
  planUpsample,
  planUpsampleBackward,
  type UpsampleGeometry,
} from '../../src/kernels/upsample.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxAbsError, randomValues, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// Blends of at most 8 values in [-1, 1) and gradient sums of a few dozen: f32 error < 1e-5.
const TOLERANCE = 1e-5;

const CASES: UpsampleGeometry[] = [
  { inputShape: [1, 2, 3, 4, 5], outputSize: [6, 8, 10], mode: 'nearest' },
  { inputShape: [2, 1, 3, 4, 5], outputSize: [5, 7, 9], mode: 'nearest' },
  { inputShape: [1, 2, 3, 4, 5], outputSize: [6, 8, 10], mode: 'linear' },
  { inputShape: [1, 2, 3, 4, 5], outputSize: [5, 7, 11], mode: 'linear', alignCorners: true },
  { inputShape: [2, 3, 5, 4], outputSize: [7, 3], mode: 'linear' },
  { inputShape: [1, 2, 5, 4], outputSize: [10, 8], mode: 'linear', scaleFactor: [2, 2] },
  { inputShape: [1, 3, 7], outputSize: [1], mode: 'linear', alignCorners: true },
  { inputShape: [1, 3, 7], outputSize: [16], mode: 'nearest' },
];

describe('upsample kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const geometry of CASES) {
    const label = `${geometry.mode}${geometry.alignCorners ? ' aligned' : ''} [${geometry.inputShape}] to [${geometry.outputSize}]`;
    it(label, async () => {
      const x = randomValues(numel(geometry.inputShape), 3);
      const expected = upsampleReference(geometry, x);
      const [y] = await runPlan(gpu, planUpsample(geometry, LIMITS), [x], [expected.length]);
      assert.ok(maxAbsError(y!, expected) <= TOLERANCE, 'forward');
      const dy = randomValues(expected.length, 4);
      const [dx] = await runPlan(gpu, planUpsampleBackward(geometry, LIMITS), [dy], [x.length]);
      assert.ok(maxAbsError(dx!, upsampleBackwardReference(geometry, dy)) <= TOLERANCE, 'backward');
    });
  }

  it('rejects bad geometry', () => {
    const base: UpsampleGeometry = { inputShape: [1, 1, 4, 4], outputSize: [8, 8], mode: 'linear' };
    assert.throws(() => planUpsample({ ...base, outputSize: [8] }, LIMITS), /2 positive integers/);
    assert.throws(
      () => planUpsample({ ...base, mode: 'cubic' as 'linear' }, LIMITS),
      /Unknown upsample mode/,
    );
    assert.throws(() => planUpsample({ ...base, inputShape: [4] }, LIMITS), /1 to 3 spatial/);
  });
});

describe('upsample reference', () => {
  it('backward is the adjoint of forward', () => {
    // The map is linear, so <forward(x), dy> = <x, backward(dy)> for every x and dy.
    for (const geometry of CASES) {
      const x = randomValues(numel(geometry.inputShape), 5);
      const y = upsampleReference(geometry, x);
      const dy = randomValues(y.length, 6);
      const dx = upsampleBackwardReference(geometry, dy);
      const left = y.reduce((s, v, i) => s + v * dy[i]!, 0);
      const right = dx.reduce((s, v, i) => s + v * x[i]!, 0);
      assert.ok(Math.abs(left - right) < 1e-9, JSON.stringify(geometry.outputSize));
    }
  });
});
