import assert from 'node:assert/strict';
import { planUnary, planUnaryBackward } from '../../src/kernels/elementwise.js';
import { unaryBackward, unaryForward } from '../../src/kernels/reference/elementwise.js';
import { UNARY_OPS, unarySaves, type UnaryOp } from '../../src/kernels/unary-ops.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { centralDifference, maxMixedError, randomValues, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };

// One entry per op of UNARY_OPS, with non-default parameters where the op has any.
const CASES: UnaryOp[] = [
  { op: 'relu' },
  { op: 'leakyRelu', negativeSlope: 0.2 },
  { op: 'elu', alpha: 0.7 },
  { op: 'selu' },
  { op: 'celu', alpha: 1.5 },
  { op: 'gelu' },
  { op: 'mish' },
  { op: 'sigmoid' },
  { op: 'tanh' },
  { op: 'relu6' },
  { op: 'softplus', beta: 2, threshold: 10 },
  { op: 'exp' },
  { op: 'log' },
  { op: 'sqrt' },
  { op: 'neg' },
  { op: 'scale', factor: -2.5 },
];

// [N, C, D, H, W] with odd sizes (scalar path) and a multiple of 4 (vec4 path), batch 1.
const SHAPES = [
  [1, 3, 5, 7, 3],
  [2, 4, 2, 3, 4],
];

/** Inputs in the op's domain, with a few large values that overflow naive formulas. */
function inputsFor(op: UnaryOp, count: number, seed: number): Float32Array {
  const positive = op.op === 'log' || op.op === 'sqrt';
  const values = randomValues(count, seed, positive ? 0.05 : -4, 4);
  if (!positive && op.op !== 'exp') values.set([30, -30, 50, -50], 0);
  return values;
}

// f32 kernels against float64 references: |gpu - ref| <= TOLERANCE * (1 + |ref|).
const TOLERANCE = 2e-6;

describe('unary element-wise kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  it('covers every op of the table', () => {
    assert.deepEqual(CASES.map((c) => c.op).sort(), [...UNARY_OPS].sort());
  });

  for (const op of CASES) {
    for (const shape of SHAPES) {
      it(`${op.op} forward and backward on [${shape}]`, async () => {
        const count = shape.reduce((a, b) => a * b, 1);
        const x = inputsFor(op, count, 7);
        const dy = randomValues(count, 11);
        const [y] = await runPlan(gpu, planUnary([op], shape, LIMITS), [x], [count]);
        assert.ok(maxMixedError(y!, unaryForward(op, x)) <= TOLERANCE, `forward of ${op.op}`);

        const saved = unarySaves(op) === 'output' ? y! : x;
        const inputs = unarySaves(op) === 'none' ? [dy] : [saved, dy];
        const plan = planUnaryBackward(op, shape, LIMITS);
        const [dx] = await runPlan(gpu, plan, inputs, [count]);
        // Gradients from the saved output inherit its f32 rounding, hence the wider bound.
        const bound = unarySaves(op) === 'output' ? 1e-5 : TOLERANCE;
        assert.ok(maxMixedError(dx!, unaryBackward(op, x, dy)) <= bound, `backward of ${op.op}`);
      });
    }
  }

  it('fuses a chain into one kernel', async () => {
    const chain: UnaryOp[] = [{ op: 'relu' }, { op: 'scale', factor: 2 }, { op: 'tanh' }];
    const x = randomValues(99, 3, -2, 2);
    const plan = planUnary(chain, [99], LIMITS);
    const [y] = await runPlan(gpu, plan, [x], [99]);
    const expected = chain.reduce<ArrayLike<number>>((v, op) => unaryForward(op, v), x);
    assert.equal(plan.spec.name, 'relu_scale_tanh');
    assert.ok(maxMixedError(y!, expected) <= TOLERANCE);
  });

  it('gives identical bits on two runs', async () => {
    const x = randomValues(4096, 5, -3, 3);
    const plan = planUnary([{ op: 'gelu' }], [4096], LIMITS);
    const [first] = await runPlan(gpu, plan, [x], [4096]);
    const [second] = await runPlan(gpu, plan, [x], [4096]);
    assert.deepEqual(new Uint32Array(first!.buffer), new Uint32Array(second!.buffer));
  });

  it('rejects bad ops and shapes', () => {
    assert.throws(() => planUnary([{ op: 'scale' }], [4], LIMITS), /factor/);
    assert.throws(
      () => planUnary([{ op: 'swish' as 'relu' }], [4], LIMITS),
      /Unknown unary op 'swish'/,
    );
    assert.throws(() => planUnary([{ op: 'relu' }], [2, 0, 3], LIMITS), /positive integers/);
    assert.throws(() => planUnary([], [4], LIMITS), /at least one op/);
    const small = { maxStorageBufferBindingSize: 1024 };
    assert.throws(() => planUnary([{ op: 'relu' }], [1, 1, 16, 17], small), /maxStorageBuffer/);
    assert.throws(() => planUnary([{ op: 'relu' }], [1 << 16, 1 << 16], LIMITS), /2\^32/);
  });
});

describe('unary references', () => {
  // Points away from kinks (0, 6, the softplus threshold), where the derivative is defined.
  const points = [-3.1, -1.7, -0.4, 0.3, 0.9, 2.2, 4.7];
  for (const op of CASES) {
    it(`${op.op} derivative matches central differences`, () => {
      for (const point of points) {
        const x = op.op === 'log' || op.op === 'sqrt' ? Math.abs(point) : point;
        const f = (v: number) => unaryForward(op, [v])[0]!;
        const numeric = centralDifference(f, x);
        const analytic = unaryBackward(op, [x], [1])[0]!;
        assert.ok(Math.abs(numeric - analytic) <= 1e-6 * (1 + Math.abs(analytic)), `at ${x}`);
      }
    });
  }
});
