import assert from 'node:assert/strict';
import { numel } from '../../src/kernels/common.js';
import {
  planAdaptiveAvgPool,
  planAdaptiveAvgPoolBackward,
  planAdaptiveMaxPool,
  planAdaptiveMaxPoolBackward,
  planAvgPool,
  planAvgPoolBackward,
  planMaxPool,
  planMaxPoolBackward,
  poolOutputShape,
  type AdaptivePoolGeometry,
  type AvgPoolGeometry,
  type PoolGeometry,
} from '../../src/kernels/pool.js';
import {
  avgPoolBackwardReference,
  avgPoolReference,
  maxPoolBackwardReference,
  maxPoolReference,
} from '../../src/kernels/reference/pool.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxAbsError, randomValues, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// Window sums of at most 27 values in [-1, 1): f32 error stays below 1e-6.
const TOLERANCE = 1e-6;

const MAX_CASES: PoolGeometry[] = [
  { inputShape: [2, 4, 6, 8, 10], kernelSize: [2, 2, 2] },
  { inputShape: [1, 2, 7, 6, 5], kernelSize: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1] },
  { inputShape: [1, 2, 7, 6, 9], kernelSize: [2, 3, 2], stride: [1, 2, 1], dilation: [2, 1, 3] },
  { inputShape: [2, 3, 9, 8], kernelSize: [3, 2], stride: [2, 2], padding: [1, 0], ceilMode: true },
  { inputShape: [1, 2, 11], kernelSize: [3], stride: [2], ceilMode: true },
  {
    inputShape: [1, 1, 5, 5, 5],
    kernelSize: [3, 3, 3],
    stride: [1, 1, 1],
    padding: [[1, 0], 1, [0, 1]],
  },
  {
    inputShape: [1, 2, 7, 9, 8],
    kernelSize: [2, 2, 3],
    stride: [3, 2, 3],
    padding: [1, 0, 1],
    ceilMode: true,
  },
  { inputShape: [2, 1, 10, 7], kernelSize: [2, 2], stride: [3, 2], dilation: [2, 1] },
  // Windows that tile the input with width 2 and an even output width: the pair kernels.
  { inputShape: [2, 3, 6, 8, 12], kernelSize: [2, 2, 2] },
  { inputShape: [1, 2, 4, 6, 8], kernelSize: [2, 3, 2] },
  { inputShape: [3, 2, 6, 4], kernelSize: [2, 2] },
  { inputShape: [1, 3, 12], kernelSize: [2] },
];

// [geometry, the forward kernel, the default input-gradient kernel].
const MAX_KERNELS: [PoolGeometry, string, string][] = [
  [{ inputShape: [2, 8, 80, 96, 80], kernelSize: [2, 2, 2] }, 'maxpool_pairs', 'maxpool_pairs'],
  [{ inputShape: [1, 1, 4, 4, 6], kernelSize: [2, 2, 2] }, 'maxpool', 'maxpool_backward_scatter'],
  [{ inputShape: [1, 1, 5, 4, 4], kernelSize: [2, 2, 2] }, 'maxpool', 'maxpool_backward_scatter'],
  [
    { inputShape: [1, 1, 4, 4, 8], kernelSize: [2, 2, 2], padding: [0, 0, 1] },
    'maxpool',
    'maxpool_backward_scatter',
  ],
  [{ inputShape: [1, 1, 9, 9], kernelSize: [3, 3] }, 'maxpool', 'maxpool_backward_scatter'],
];

const AVG_CASES: AvgPoolGeometry[] = [
  { inputShape: [2, 3, 6, 8, 4], kernelSize: [2, 2, 2] },
  { inputShape: [1, 2, 7, 6, 5], kernelSize: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1] },
  {
    inputShape: [1, 2, 7, 6, 5],
    kernelSize: [3, 3, 3],
    stride: [2, 2, 2],
    padding: [1, 1, 1],
    countIncludePad: false,
  },
  { inputShape: [2, 3, 9, 8], kernelSize: [3, 2], stride: [2, 3], padding: [1, 1], ceilMode: true },
  {
    inputShape: [1, 2, 11],
    kernelSize: [4],
    stride: [3],
    padding: [2],
    ceilMode: true,
    countIncludePad: false,
  },
  { inputShape: [1, 2, 5, 5], kernelSize: [2, 2], stride: [1, 1], divisorOverride: 3 },
];

const ADAPTIVE_CASES: AdaptivePoolGeometry[] = [
  { inputShape: [1, 2, 7, 5, 9], outputSize: [3, 2, 4] },
  { inputShape: [2, 3, 10], outputSize: [4] },
  { inputShape: [1, 1, 5, 7], outputSize: [7, 3] },
  { inputShape: [2, 3, 5, 4, 3], outputSize: [1, 1, 1] },
];

describe('pooling kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const geometry of MAX_CASES) {
    it(`maxPool on [${geometry.inputShape}] kernel [${geometry.kernelSize}]`, async () => {
      // Values on a coarse grid, so windows hold ties that test the first-maximum rule.
      const x = randomValues(numel(geometry.inputShape), 5).map((v) => Math.round(v * 4) / 4);
      const expected = maxPoolReference(geometry, x);
      assert.deepEqual(poolOutputShape(geometry), expected.outShape);
      const outputs = expected.y.length;
      const [y, argmax] = await runPlan(
        gpu,
        planMaxPool(geometry, LIMITS),
        [x],
        [outputs, outputs],
      );
      assert.equal(maxAbsError(y!, expected.y), 0);
      assert.deepEqual(new Uint32Array(argmax!.buffer), expected.argmax);

      const dy = randomValues(outputs, 6);
      const dxExpected = maxPoolBackwardReference(geometry, x, dy);
      const stride = geometry.stride ?? geometry.kernelSize;
      const disjoint = geometry.kernelSize.every(
        (k, a) => (geometry.dilation?.[a] ?? 1) * (k - 1) + 1 <= stride[a]!,
      );
      for (const method of ['gather', 'scatter', undefined] as const) {
        if (method === 'scatter' && !disjoint) {
          assert.throws(() => planMaxPoolBackward(geometry, LIMITS, method), /do not overlap/);
          continue;
        }
        const plan = planMaxPoolBackward(geometry, LIMITS, method);
        const [dx] = await runPlan(gpu, plan, [dy, expected.argmax], [x.length]);
        assert.ok(maxAbsError(dx!, dxExpected) <= TOLERANCE, `method ${method ?? 'default'}`);
      }
    });
  }

  for (const [geometry, forward, backward] of MAX_KERNELS) {
    it(`maxPool on [${geometry.inputShape}] kernel [${geometry.kernelSize}] runs ${forward}`, () => {
      assert.equal(planMaxPool(geometry, LIMITS).spec.name, forward);
      const gradient = planMaxPoolBackward(geometry, LIMITS).spec.name;
      assert.equal(gradient, backward === 'maxpool_pairs' ? 'maxpool_pairs_backward' : backward);
    });
  }

  for (const geometry of ADAPTIVE_CASES) {
    it(`adaptiveMaxPool to [${geometry.outputSize}] on [${geometry.inputShape}]`, async () => {
      const x = randomValues(numel(geometry.inputShape), 15).map((v) => Math.round(v * 4) / 4);
      const expected = maxPoolReference(geometry, x);
      const outputs = expected.y.length;
      const forward = planAdaptiveMaxPool(geometry, LIMITS);
      const [y, argmax] = await runPlan(gpu, forward, [x], [outputs, outputs]);
      assert.equal(maxAbsError(y!, expected.y), 0);
      assert.deepEqual(new Uint32Array(argmax!.buffer), expected.argmax);
      const dy = randomValues(outputs, 16);
      const backward = planAdaptiveMaxPoolBackward(geometry, LIMITS);
      const [dx] = await runPlan(gpu, backward, [dy, expected.argmax], [x.length]);
      assert.ok(maxAbsError(dx!, maxPoolBackwardReference(geometry, x, dy)) <= TOLERANCE);
    });
  }

  const averageCases: (AvgPoolGeometry | AdaptivePoolGeometry)[] = [
    ...AVG_CASES,
    ...ADAPTIVE_CASES,
  ];
  for (const geometry of averageCases) {
    const adaptive = 'outputSize' in geometry;
    const label = adaptive
      ? `adaptiveAvgPool to [${geometry.outputSize}]`
      : `avgPool kernel [${geometry.kernelSize}]`;
    it(`${label} on [${geometry.inputShape}]`, async () => {
      const x = randomValues(numel(geometry.inputShape), 8);
      const expected = avgPoolReference(geometry, x);
      const forward = adaptive
        ? planAdaptiveAvgPool(geometry, LIMITS)
        : planAvgPool(geometry, LIMITS);
      const [y] = await runPlan(gpu, forward, [x], [expected.length]);
      assert.ok(maxAbsError(y!, expected) <= TOLERANCE, 'forward');

      const dy = randomValues(expected.length, 9);
      const backward = adaptive
        ? planAdaptiveAvgPoolBackward(geometry, LIMITS)
        : planAvgPoolBackward(geometry, LIMITS);
      const [dx] = await runPlan(gpu, backward, [dy], [x.length]);
      assert.ok(maxAbsError(dx!, avgPoolBackwardReference(geometry, dy)) <= TOLERANCE, 'backward');
    });
  }

  it('maxPool scatter overwrites every input gradient', async () => {
    // Stride 3 > kernel 2 leaves inputs outside every window: their gradient must become 0.
    const geometry: PoolGeometry = { inputShape: [1, 2, 7, 8], kernelSize: [2, 2], stride: [3, 3] };
    const x = randomValues(numel(geometry.inputShape), 7);
    const expected = maxPoolReference(geometry, x);
    const dy = randomValues(expected.y.length, 8);
    const plan = planMaxPoolBackward(geometry, LIMITS, 'scatter');
    const kernel = await gpu.kernel(plan.spec);
    const buffers = [
      gpu.upload('dy', dy),
      gpu.upload('argmax', expected.argmax),
      gpu.upload('dx', new Float32Array(x.length).fill(Number.NaN)),
    ];
    await gpu.run(kernel, buffers, plan.workgroups);
    const dx = await gpu.readF32(buffers[2]!, x.length);
    for (const buffer of buffers) buffer.destroy();
    assert.equal(maxAbsError(dx, maxPoolBackwardReference(geometry, x, dy)), 0);
  });

  it('rejects bad geometry', () => {
    const base = { inputShape: [1, 1, 4, 4], kernelSize: [2, 2] };
    assert.throws(() => planMaxPool({ ...base, padding: [2, 0] }, LIMITS), /half the kernel size/);
    assert.throws(() => planMaxPool({ ...base, kernelSize: [2] }, LIMITS), /2 integers/);
    assert.throws(() => planMaxPool({ ...base, inputShape: [4, 4] }, LIMITS), /1 to 3 spatial/);
    assert.throws(() => planMaxPool({ ...base, kernelSize: [5, 5] }, LIMITS), /does not fit/);
    assert.throws(() => planAvgPool({ ...base, dilation: [2, 2] }, LIMITS), /no dilation/);
    assert.throws(() => planAvgPool({ ...base, divisorOverride: 0 }, LIMITS), /divisorOverride/);
    const adaptive = { inputShape: [1, 1, 4, 4], outputSize: [0, 2] };
    assert.throws(() => planAdaptiveAvgPool(adaptive, LIMITS), /outputSize/);
  });
});

describe('pooling references', () => {
  it('gradients match central differences', () => {
    const cases: (PoolGeometry | AvgPoolGeometry | AdaptivePoolGeometry)[] = [
      MAX_CASES[1]!,
      AVG_CASES[2]!,
      ADAPTIVE_CASES[0]!,
    ];
    cases.forEach((geometry, k) => {
      const x = Array.from(randomValues(numel(geometry.inputShape), 20 + k));
      const isMax = k === 0;
      const forward = (values: number[]) =>
        isMax
          ? maxPoolReference(geometry as PoolGeometry, values).y
          : avgPoolReference(geometry, values);
      const dy = randomValues(forward(x).length, 30 + k);
      const analytic = isMax
        ? maxPoolBackwardReference(geometry as PoolGeometry, x, dy)
        : avgPoolBackwardReference(geometry, dy);
      const loss = (values: number[]) => forward(values).reduce((s, v, o) => s + v * dy[o]!, 0);
      for (const i of [0, 7, 19, x.length - 1]) {
        const h = 1e-6;
        const plus = [...x];
        const minus = [...x];
        plus[i]! += h;
        minus[i]! -= h;
        const numeric = (loss(plus) - loss(minus)) / (2 * h);
        assert.ok(Math.abs(numeric - analytic[i]!) < 1e-6, `case ${k} element ${i}`);
      }
    });
  });
});
