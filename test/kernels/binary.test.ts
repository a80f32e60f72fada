import assert from 'node:assert/strict';
import {
  BINARY_OPS,
  planBinary,
  planBinaryBackward,
  type BinaryOp,
} from '../../src/kernels/binary.js';
import { numel, type Shape } from '../../src/kernels/common.js';
import { binaryBackward, binaryForward } from '../../src/kernels/reference/binary.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { centralDifference, maxMixedError, randomValues, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// f32 against float64, |gpu - ref| <= TOLERANCE * (1 + |ref|); sums over at most 105 terms.
const TOLERANCE = 1e-5;

// [a shape, b shape]: same shape (vec4 and scalar paths), bias-like, scalar, rank change.
const SHAPE_PAIRS: [Shape, Shape][] = [
  [
    [2, 3, 4, 2],
    [2, 3, 4, 2],
  ],
  [
    [1, 3, 5, 7],
    [1, 3, 5, 7],
  ],
  [
    [2, 3, 5, 7],
    [1, 3, 1, 1],
  ],
  [[1, 3, 5, 7], [1]],
  [
    [3, 1, 5],
    [2, 1],
  ],
];

/** Operands of `op`: divisors kept away from 0. */
function operands(op: BinaryOp, a: Shape, b: Shape): [Float32Array, Float32Array] {
  const x = randomValues(numel(a), 1, -2, 2);
  const y = op === 'div' ? randomValues(numel(b), 2, 0.5, 2) : randomValues(numel(b), 2, -2, 2);
  return [x, y];
}

describe('binary element-wise kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const op of BINARY_OPS) {
    for (const [aShape, bShape] of SHAPE_PAIRS) {
      if (op === 'prelu' && numel(bShape) === numel(aShape)) continue;
      it(`${op} on [${aShape}] and [${bShape}]`, async () => {
        const [a, b] = operands(op, aShape, bShape);
        const plan = planBinary(op, aShape, bShape, LIMITS);
        const expected = binaryForward(op, a, aShape, b, bShape);
        const [y] = await runPlan(gpu, plan, [a, b], [expected.length]);
        assert.ok(maxMixedError(y!, expected) <= TOLERANCE, 'forward');

        const dy = randomValues(expected.length, 3);
        for (const operand of [0, 1] as const) {
          const grad = await runGradient(gpu, op, operand, aShape, bShape, { a, b, dy });
          const reference = binaryBackward(op, operand, a, aShape, b, bShape, dy);
          assert.ok(maxMixedError(grad, reference) <= TOLERANCE, `gradient of operand ${operand}`);
        }
      });
    }
  }

  it('rejects shapes that do not broadcast', () => {
    assert.throws(() => planBinary('add', [2, 3], [4, 3], LIMITS), /axis 0 has sizes 2 and 4/);
    assert.throws(() => planBinary('pow' as BinaryOp, [2], [2], LIMITS), /Unknown binary op 'pow'/);
  });
});

async function runGradient(
  gpu: Gpu,
  op: BinaryOp,
  operand: 0 | 1,
  aShape: Shape,
  bShape: Shape,
  tensors: Record<'a' | 'b' | 'dy', Float32Array>,
): Promise<Float32Array> {
  const plan = planBinaryBackward(op, operand, aShape, bShape, LIMITS);
  const inputs = plan.inputs.map((name) => tensors[name]);
  const gradElements = numel(operand === 0 ? aShape : bShape);
  if (!plan.reduce) return (await runPlan(gpu, plan.elementwise, inputs, [gradElements]))[0]!;
  const [scratch] = await runPlan(gpu, plan.elementwise, inputs, [plan.scratchElements]);
  return (await runPlan(gpu, plan.reduce, [scratch!], [gradElements]))[0]!;
}

describe('binary references', () => {
  it('gradients match central differences', () => {
    for (const op of BINARY_OPS) {
      const [a, b] = [[0.7, -1.3], [1.9]];
      for (const operand of [0, 1] as const) {
        const grad = binaryBackward(op, operand, a, [2], b, [1], [1, 1]);
        const values = operand === 0 ? a : b;
        values.forEach((value, k) => {
          const f = (v: number) => {
            const copy = [...values];
            copy[k] = v;
            const out =
              operand === 0
                ? binaryForward(op, copy, [2], b, [1])
                : binaryForward(op, a, [2], copy, [1]);
            return out[0]! + out[1]!;
          };
          assert.ok(
            Math.abs(centralDifference(f, value) - grad[k]!) < 1e-6,
            `${op} operand ${operand}`,
          );
        });
      }
    }
  });
});
