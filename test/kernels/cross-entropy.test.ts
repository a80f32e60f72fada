import assert from 'node:assert/strict';
import { numel } from '../../src/kernels/common.js';
import {
  planCrossEntropy,
  planCrossEntropyBackward,
  type CrossEntropyGeometry,
} from '../../src/kernels/cross-entropy.js';
import { crossEntropyReference } from '../../src/kernels/reference/cross-entropy.js';
import { softmaxReference } from '../../src/kernels/reference/softmax.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, randomValues, seededRandom } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// f32 against float64, relative to 1 + |ref|; totals of at most 210 rows.
const TOLERANCE = 1e-5;

interface Case {
  geometry: CrossEntropyGeometry;
  weighted: boolean;
}

const CASES: Case[] = [
  { geometry: { inputShape: [4, 2], fromLogits: true }, weighted: false },
  { geometry: { inputShape: [1, 5], fromLogits: true, reduction: 'sum' }, weighted: true },
  { geometry: { inputShape: [7, 3], fromLogits: true, labelSmoothing: 0.1 }, weighted: true },
  { geometry: { inputShape: [2, 3, 5, 7], fromLogits: true, reduction: 'none' }, weighted: false },
  {
    geometry: {
      inputShape: [2, 4, 3, 5, 7],
      fromLogits: true,
      labelSmoothing: 0.2,
      ignoreIndex: 255,
    },
    weighted: true,
  },
  { geometry: { inputShape: [6, 4], fromLogits: false, ignoreIndex: 1 }, weighted: true },
  { geometry: { inputShape: [1, 3, 9], fromLogits: false, reduction: 'none' }, weighted: false },
];

function targetsFor(geometry: CrossEntropyGeometry, seed: number): Int32Array {
  const [n, classes] = geometry.inputShape as [number, number];
  const rows = n * numel(geometry.inputShape.slice(2));
  const random = seededRandom(seed);
  const ignore = geometry.ignoreIndex;
  // About one row in six takes the ignore index, when the case has one.
  return Int32Array.from({ length: rows }, () => {
    const r = random();
    return ignore !== undefined && r > 5 / 6 ? ignore : Math.floor(r * classes) % classes;
  });
}

describe('cross-entropy kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  async function run(
    geometry: CrossEntropyGeometry,
    x: Float32Array,
    targets: Int32Array,
    weights: Float32Array,
    dLoss: Float32Array,
  ) {
    const plan = planCrossEntropy(geometry, LIMITS);
    const buffers = {
      x: gpu.upload('x', x),
      targets: gpu.upload('targets', targets),
      weights: gpu.upload('weights', weights),
      rowLoss: gpu.createBuffer('row loss', plan.rowCount * 4),
      rowWeight: gpu.createBuffer('row weight', plan.rowCount * 4),
      totals: gpu.createBuffer('totals', 8),
      dLoss: gpu.upload('dloss', dLoss),
      dx: gpu.createBuffer('dx', x.byteLength),
    };
    const rows = await gpu.kernel(plan.rows.spec);
    const { x: bx, targets: bt, weights: bw, rowLoss, rowWeight, totals } = buffers;
    await gpu.run(rows, [bx, bt, bw, rowLoss, rowWeight], plan.rows.workgroups);
    if (plan.total)
      await gpu.run(await gpu.kernel(plan.total.spec), [rowLoss, rowWeight, totals], 1);
    const backward = planCrossEntropyBackward(geometry, LIMITS);
    await gpu.run(
      await gpu.kernel(backward.spec),
      [bx, bt, bw, totals, buffers.dLoss, buffers.dx],
      backward.workgroups,
    );
    const loss = plan.total
      ? await gpu.readF32(totals, 1)
      : await gpu.readF32(rowLoss, plan.rowCount);
    const dx = await gpu.readF32(buffers.dx, x.length);
    for (const buffer of Object.values(buffers)) buffer.destroy();
    return { loss, dx };
  }

  CASES.forEach(({ geometry, weighted }, k) => {
    const label = `${geometry.fromLogits ? 'cross-entropy' : 'nll'} ${geometry.reduction ?? 'mean'} on [${geometry.inputShape}]`;
    it(label, async () => {
      const classes = geometry.inputShape[1]!;
      const raw = randomValues(numel(geometry.inputShape), 40 + k, -3, 3);
      // NLL takes log-probabilities.
      const x = geometry.fromLogits
        ? raw
        : Float32Array.from(softmaxReference(raw, geometry.inputShape, 1, true));
      const targets = targetsFor(geometry, 50 + k);
      const weights = weighted
        ? randomValues(classes, 60 + k, 0.2, 2)
        : new Float32Array(classes).fill(1);
      const rows = targets.length;
      const dLoss =
        geometry.reduction === 'none' ? randomValues(rows, 70 + k) : Float32Array.of(0.75);
      const expected = crossEntropyReference(geometry, x, targets, weights, dLoss);
      const actual = await run(geometry, x, targets, weights, dLoss);
      assert.ok(maxMixedError(actual.loss, expected.loss) <= TOLERANCE, 'loss');
      assert.ok(maxMixedError(actual.dx, expected.grad) <= TOLERANCE, 'gradient');
    });
  });

  it('gives identical bits on two runs', async () => {
    const geometry: CrossEntropyGeometry = { inputShape: [2, 4, 9, 11, 7], fromLogits: true };
    const x = randomValues(numel(geometry.inputShape), 8, -3, 3);
    const targets = targetsFor(geometry, 9);
    const weights = new Float32Array(4).fill(1);
    const first = await run(geometry, x, targets, weights, Float32Array.of(1));
    const second = await run(geometry, x, targets, weights, Float32Array.of(1));
    assert.deepEqual(new Uint32Array(second.loss.buffer), new Uint32Array(first.loss.buffer));
    assert.deepEqual(new Uint32Array(second.dx.buffer), new Uint32Array(first.dx.buffer));
  });

  it('gives NaN for a target out of range', async () => {
    const geometry: CrossEntropyGeometry = { inputShape: [2, 3], fromLogits: true };
    const x = randomValues(6, 1);
    const result = await run(
      geometry,
      x,
      Int32Array.of(1, 3),
      new Float32Array(3).fill(1),
      Float32Array.of(1),
    );
    assert.ok(Number.isNaN(result.loss[0]));
  });

  it('rejects bad settings', () => {
    const base: CrossEntropyGeometry = { inputShape: [2, 3], fromLogits: true };
    assert.throws(
      () => planCrossEntropy({ ...base, labelSmoothing: 1.5 }, LIMITS),
      /labelSmoothing/,
    );
    assert.throws(() => planCrossEntropy({ ...base, inputShape: [3] }, LIMITS), /\[N, C/);
    const nll = { ...base, fromLogits: false, labelSmoothing: 0.1 };
    assert.throws(() => planCrossEntropy(nll, LIMITS), /no label smoothing/);
    const reduction = 'avg' as 'mean';
    assert.throws(() => planCrossEntropy({ ...base, reduction }, LIMITS), /Unknown reduction/);
  });
});

describe('cross-entropy reference', () => {
  it('gradient matches central differences', () => {
    const geometry: CrossEntropyGeometry = {
      inputShape: [3, 4, 2],
      fromLogits: true,
      labelSmoothing: 0.3,
      ignoreIndex: 0,
    };
    const x = Array.from(randomValues(24, 3, -2, 2));
    const targets = [1, 0, 3, 2, 2, 1];
    const weights = [0.5, 1, 1.5, 2];
    const { grad } = crossEntropyReference(geometry, x, targets, weights, [1]);
    for (let i = 0; i < x.length; i++) {
      const loss = (v: number) => {
        const copy = [...x];
        copy[i] = v;
        return crossEntropyReference(geometry, copy, targets, weights, [1]).loss[0]!;
      };
      const numeric = (loss(x[i]! + 1e-6) - loss(x[i]! - 1e-6)) / 2e-6;
      assert.ok(Math.abs(numeric - grad[i]!) < 1e-7, `element ${i}`);
    }
  });
});
