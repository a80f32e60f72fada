import assert from 'node:assert/strict';
import { numel, type Shape } from '../../src/kernels/common.js';
import {
  concatShape,
  planConcat,
  planConcatBackward,
  planPad,
  planPadBackward,
  planPermute,
  planSlice,
  planSliceBackward,
  slicedShape,
  type PadGeometry,
  type SliceGeometry,
} from '../../src/kernels/copy.js';
import {
  concatReference,
  padBackwardReference,
  padReference,
  permuteReference,
  sliceReference,
} from '../../src/kernels/reference/copy.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxAbsError, randomValues, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };

const PERMUTES: [Shape, number[]][] = [
  [
    [2, 3, 4, 5, 6],
    [0, 2, 3, 4, 1],
  ],
  [
    [3, 5, 7],
    [2, 1, 0],
  ],
  [
    [1, 3, 5],
    [0, 1, 2],
  ],
];

const SLICES: SliceGeometry[] = [
  { shape: [2, 3, 7, 5], starts: [0, 1, 2, 0], ends: [2, 3, 7, 4] },
  { shape: [5, 9], starts: [1, 0], ends: [5, 9], steps: [2, 3] },
];

const PADS: PadGeometry[] = [
  {
    shape: [1, 2, 3, 4],
    padding: [
      [0, 0],
      [0, 0],
      [1, 2],
      [2, 1],
    ],
    value: -1.5,
  },
  {
    shape: [2, 5, 4],
    padding: [
      [0, 0],
      [3, 2],
      [1, 3],
    ],
    mode: 'reflect',
  },
  {
    shape: [2, 3, 3],
    padding: [
      [0, 0],
      [2, 4],
      [0, 1],
    ],
    mode: 'replicate',
  },
  {
    shape: [1, 2, 4, 3, 5],
    padding: [
      [0, 0],
      [0, 0],
      [2, 3],
      [2, 2],
      [4, 1],
    ],
    mode: 'reflect',
  },
  {
    shape: [1, 1, 1, 4],
    padding: [
      [0, 0],
      [0, 0],
      [2, 1],
      [3, 0],
    ],
    mode: 'replicate',
  },
];

describe('copy kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const [shape, axes] of PERMUTES) {
    it(`permutes [${shape}] by [${axes}]`, async () => {
      const x = randomValues(numel(shape), 1);
      const [y] = await runPlan(gpu, planPermute(shape, axes, LIMITS), [x], [x.length]);
      assert.equal(maxAbsError(y!, permuteReference(x, shape, axes)), 0);
      // The backward pass is the inverse permutation.
      const inverse = axes.map((_, k) => axes.indexOf(k));
      const back = axes.map((axis) => shape[axis]!);
      const [restored] = await runPlan(gpu, planPermute(back, inverse, LIMITS), [y!], [x.length]);
      assert.equal(maxAbsError(restored!, x), 0);
    });
  }

  for (const geometry of SLICES) {
    it(`slices [${geometry.shape}] with steps [${geometry.steps ?? 1}]`, async () => {
      const x = randomValues(numel(geometry.shape), 2);
      const count = numel(slicedShape(geometry));
      const [y] = await runPlan(gpu, planSlice(geometry, LIMITS), [x], [count]);
      assert.equal(maxAbsError(y!, sliceReference(x, geometry)), 0);
      // Backward into a zeroed gradient: the adjoint of the slice.
      const [dx] = await runPlan(gpu, planSliceBackward(geometry, LIMITS), [y!], [x.length]);
      const inner = x.reduce((s, v, i) => s + v * dx![i]!, 0);
      const outer = y!.reduce((s, v) => s + v * v, 0);
      assert.ok(Math.abs(inner - outer) < 1e-4);
    });
  }

  it('concatenates along the channel axis and back', async () => {
    const shapes: Shape[] = [
      [2, 3, 4, 5],
      [2, 1, 4, 5],
      [2, 2, 4, 5],
    ];
    const inputs = shapes.map((shape, k) => randomValues(numel(shape), 10 + k));
    const out = gpu.createBuffer('concat', numel(concatShape(shapes, 1)) * 4);
    const plans = planConcat(shapes, 1, LIMITS);
    for (const [k, plan] of plans.entries()) {
      const input = gpu.upload(`input ${k}`, inputs[k]!);
      await gpu.run(await gpu.kernel(plan.spec), [input, out], plan.workgroups);
      input.destroy();
    }
    const y = await gpu.readF32(out, numel(concatShape(shapes, 1)));
    assert.equal(maxAbsError(y, concatReference(inputs, shapes, 1)), 0);
    for (const [k, plan] of planConcatBackward(shapes, 1, LIMITS).entries()) {
      const [part] = await runPlan(gpu, plan, [y], [inputs[k]!.length]);
      assert.equal(maxAbsError(part!, inputs[k]!), 0, `input ${k}`);
    }
    out.destroy();
  });

  for (const geometry of PADS) {
    it(`pads [${geometry.shape}] in ${geometry.mode ?? 'constant'} mode`, async () => {
      const x = randomValues(numel(geometry.shape), 3);
      const expected = padReference(x, geometry);
      const [y] = await runPlan(gpu, planPad(geometry, LIMITS), [x], [expected.length]);
      assert.equal(maxAbsError(y!, expected), 0);
      const dy = randomValues(expected.length, 4);
      const [dx] = await runPlan(gpu, planPadBackward(geometry, LIMITS), [dy], [x.length]);
      assert.ok(maxAbsError(dx!, padBackwardReference(dy, geometry)) <= 1e-6, 'backward');
    });
  }

  it('rejects bad geometry', () => {
    assert.throws(() => planPermute([2, 3], [0, 0], LIMITS), /each axis/);
    assert.throws(() => planSlice({ shape: [4], starts: [3], ends: [2] }, LIMITS), /invalid/);
    assert.throws(
      () =>
        concatShape(
          [
            [2, 3],
            [3, 3],
          ],
          1,
        ),
      /differs/,
    );
    const reflect: PadGeometry = { shape: [3], padding: [[3, 0]], mode: 'reflect' };
    assert.throws(() => planPad(reflect, LIMITS), /smaller than the size/);
  });
});

describe('copy references', () => {
  it('pad backward is the adjoint of pad', () => {
    // Padding is linear, so <pad(x), dy> = <x, padBackward(dy)> for every x and dy.
    for (const geometry of PADS) {
      const x = randomValues(numel(geometry.shape), 5);
      const y = padReference(x, { ...geometry, value: 0 });
      const dy = randomValues(y.length, 6);
      const dx = padBackwardReference(dy, geometry);
      const left = y.reduce((s, v, i) => s + v * dy[i]!, 0);
      const right = dx.reduce((s, v, i) => s + v * x[i]!, 0);
      assert.ok(Math.abs(left - right) < 1e-9, `[${geometry.shape}] ${geometry.mode}`);
    }
  });
});
