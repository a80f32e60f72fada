import assert from 'node:assert/strict';
import { numel, type Shape } from '../../src/kernels/common.js';
import {
  planReduce,
  planReduceBackward,
  reducedShape,
  type ReduceOp,
} from '../../src/kernels/reduce.js';
import { broadcastTo, reduceReference } from '../../src/kernels/reference/reduce.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, randomValues, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// Sums of up to ~3000 f32 values in [-1, 1): error bound relative to 1 + |ref|.
const TOLERANCE = 1e-5;

const CASES: { shape: Shape; axes: number[] }[] = [
  { shape: [2, 3, 5, 7, 3], axes: [0, 2, 3, 4] },
  { shape: [1, 3, 5, 7, 3], axes: [2, 3, 4] },
  { shape: [3, 5, 7], axes: [1] },
  { shape: [3, 5, 7], axes: [-1] },
  { shape: [4, 1, 9], axes: [0, 1, 2] },
  { shape: [2, 3, 4], axes: [] },
  { shape: [1, 1, 23, 11, 13], axes: [2, 4] },
];

describe('reduction kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const op of ['sum', 'mean', 'max'] as ReduceOp[]) {
    for (const { shape, axes } of CASES) {
      it(`${op} of [${shape}] over [${axes}]`, async () => {
        const x = randomValues(numel(shape), 9);
        const plan = planReduce({ shape, axes, op }, LIMITS);
        const positive = axes.map((axis) => (axis < 0 ? axis + shape.length : axis));
        const expected = reduceReference(x, shape, positive, op);
        assert.equal(expected.length, numel(reducedShape(shape, axes)));
        const [y] = await runPlan(gpu, plan, [x], [expected.length]);
        assert.ok(maxMixedError(y!, expected) <= TOLERANCE, 'forward');

        const dy = randomValues(expected.length, 10);
        const kept = reducedShape(shape, axes, true);
        const wide = broadcastTo(dy, kept, shape);
        const peak = broadcastTo(expected, kept, shape);
        const count = x.length / expected.length;
        const dxExpected = wide.map((g, i) =>
          op === 'sum' ? g : op === 'mean' ? g / count : x[i] === peak[i] ? g : 0,
        );
        const inputs = op === 'max' ? [x, y!, dy] : [dy];
        const [dx] = await runPlan(gpu, planReduceBackward({ shape, axes, op }, LIMITS), inputs, [
          x.length,
        ]);
        assert.ok(maxMixedError(dx!, dxExpected) <= TOLERANCE, 'backward');
      });
    }
  }

  it('gives identical bits on two runs', async () => {
    const x = randomValues(3 * 4001, 4);
    const plan = planReduce({ shape: [3, 4001], axes: [1], op: 'sum' }, LIMITS);
    const [first] = await runPlan(gpu, plan, [x], [3]);
    const [second] = await runPlan(gpu, plan, [x], [3]);
    assert.deepEqual(new Uint32Array(first!.buffer), new Uint32Array(second!.buffer));
  });

  it('rejects bad axes and ops', () => {
    assert.throws(() => planReduce({ shape: [2, 3], axes: [2], op: 'sum' }, LIMITS), /Axis 2/);
    assert.throws(
      () => planReduce({ shape: [2, 3], axes: [1, -1], op: 'sum' }, LIMITS),
      /repeated/,
    );
    const op = 'prod' as ReduceOp;
    assert.throws(() => planReduce({ shape: [2, 3], axes: [1], op }, LIMITS), /Unknown reduction/);
  });
});
