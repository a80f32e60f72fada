import assert from 'node:assert/strict';
import { GpuLimitError, UserError } from '../../src/errors.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import {
  planLinear,
  planLinearInputGrad,
  planLinearWeightGrad,
  planMatmul,
  type MatmulGeometry,
} from '../../src/kernels/matmul.js';
import type { Activation } from '../../src/kernels/plan.js';
import {
  activateReference,
  matmulReference,
  matmulReferenceGrad,
} from '../../src/kernels/reference/matmul.js';
import { assertClose, runPlan, seededValues } from './matmul-helpers.js';

interface Case {
  geometry: MatmulGeometry;
  bias?: boolean;
  activation?: Activation;
}

const CASES: Case[] = [
  { geometry: { batch: 1, m: 1, n: 1, k: 1 } },
  { geometry: { batch: 1, m: 7, n: 13, k: 5 } },
  { geometry: { batch: 2, m: 33, n: 65, k: 17 }, bias: true, activation: 'relu' },
  { geometry: { batch: 1, m: 64, n: 64, k: 64, transposeA: true } },
  { geometry: { batch: 2, m: 19, n: 70, k: 31, transposeB: true }, activation: 'tanh' },
  { geometry: { batch: 3, m: 9, n: 300, k: 40, transposeA: true, transposeB: true } },
  { geometry: { batch: 3, m: 130, n: 6, k: 23, broadcastB: true }, activation: 'sigmoid' },
  { geometry: { batch: 2, m: 5, n: 11, k: 129, broadcastA: true }, bias: true },
  { geometry: { batch: 1, m: 40, n: 24, k: 8 }, bias: true, activation: 'leakyRelu' },
  { geometry: { batch: 1, m: 3, n: 50, k: 7 }, activation: 'elu' },
  // Few outputs and a long K: one workgroup per output (matmul_dot.wgsl).
  { geometry: { batch: 1, m: 2, n: 2, k: 3001, transposeB: true }, bias: true },
  { geometry: { batch: 2, m: 3, n: 5, k: 1030, transposeA: true }, activation: 'relu' },
  { geometry: { batch: 3, m: 1, n: 4, k: 1500, broadcastB: true, transposeB: true } },
  // A short K and many outputs: one thread per output (matmul_small_k.wgsl).
  { geometry: { batch: 1, m: 2, n: 4100, k: 2, transposeA: true } },
  { geometry: { batch: 2, m: 3, n: 1500, k: 5, broadcastA: true }, bias: true, activation: 'elu' },
];

function describeCase({ geometry: g, bias, activation }: Case): string {
  const flags = [
    g.transposeA && 'Aᵀ',
    g.transposeB && 'Bᵀ',
    g.broadcastA && 'broadcast A',
    g.broadcastB && 'broadcast B',
    bias && 'bias',
    activation,
  ].filter(Boolean);
  return `${g.batch}x[${g.m}x${g.k}]@[${g.k}x${g.n}] ${flags.join(' ')}`;
}

describe('matmul kernel', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const [index, testCase] of CASES.entries()) {
    it(`matches float64 for ${describeCase(testCase)}`, async () => {
      const g = testCase.geometry;
      const activation = testCase.activation ?? 'none';
      const a = seededValues((g.broadcastA ? 1 : g.batch) * g.m * g.k, 1 + index);
      const b = seededValues((g.broadcastB ? 1 : g.batch) * g.k * g.n, 100 + index);
      const bias = seededValues(g.n, 200 + index);
      const plan = planMatmul(g, { bias: testCase.bias, activation }, gpu.limits);
      const actual = await runPlan(gpu, plan, [a, b, bias], g.batch * g.m * g.n);
      const parameter = activation === 'elu' ? 1 : 0.01;
      const expected = matmulReference(g, a, b, testCase.bias ? bias : undefined).map((x) =>
        activateReference(x, activation, parameter),
      );
      // Inputs in [-1, 1): f32 rounding grows like sqrt(k) * 2^-24 per term; 1e-6 * k is loose.
      assertClose(actual, expected, 1e-6 * g.k + 1e-6, describeCase(testCase));
    });
  }

  it('linear forward and gradients match float64', async () => {
    const linear = { batch: 3, inFeatures: 37, outFeatures: 10 };
    // y = x @ weight^T as a matmul with B = weight stored [n, k].
    const geometry = { batch: 1, m: 3, n: 10, k: 37, transposeB: true };
    const x = seededValues(3 * 37, 11);
    const weight = seededValues(10 * 37, 12);
    const bias = seededValues(10, 13);
    const dy = seededValues(3 * 10, 14);
    const y = await runPlan(
      gpu,
      planLinear(linear, { bias: true }, gpu.limits),
      [x, weight, bias],
      30,
    );
    assertClose(y, matmulReference(geometry, x, weight, bias), 1e-5, 'y');
    const grads = matmulReferenceGrad(geometry, x, weight, dy);
    const dx = await runPlan(
      gpu,
      planLinearInputGrad(linear, gpu.limits),
      [dy, weight, bias],
      3 * 37,
    );
    assertClose(dx, grads.da, 1e-5, 'dx');
    const dweight = await runPlan(
      gpu,
      planLinearWeightGrad(linear, gpu.limits),
      [dy, x, bias],
      10 * 37,
    );
    assertClose(dweight, grads.db, 1e-5, 'dweight');
  });

  it('gives identical bits on two runs', async () => {
    const g = { batch: 1, m: 45, n: 77, k: 301 };
    const a = seededValues(g.m * g.k, 7);
    const b = seededValues(g.k * g.n, 8);
    const plan = planMatmul(g, {}, gpu.limits);
    const first = await runPlan(gpu, plan, [a, b, a], g.m * g.n);
    const second = await runPlan(gpu, plan, [a, b, a], g.m * g.n);
    assert.deepEqual(new Uint32Array(first.buffer), new Uint32Array(second.buffer));
    const dot = { batch: 1, m: 2, n: 3, k: 5000, transposeB: true };
    const x = seededValues(dot.m * dot.k, 9);
    const w = seededValues(dot.n * dot.k, 10);
    const dotPlan = planMatmul(dot, {}, gpu.limits);
    const dotFirst = await runPlan(gpu, dotPlan, [x, w, x], dot.m * dot.n);
    const dotSecond = await runPlan(gpu, dotPlan, [x, w, x], dot.m * dot.n);
    assert.deepEqual(new Uint32Array(dotFirst.buffer), new Uint32Array(dotSecond.buffer));
  });

  it('picks the untiled kernels by shape', () => {
    const cases: [MatmulGeometry, string, number][] = [
      [{ batch: 1, m: 2, n: 2, k: 38400, transposeB: true }, 'matmul_dot', 4],
      [{ batch: 2, m: 8, n: 16, k: 1024 }, 'matmul_dot', 256],
      [{ batch: 2, m: 8, n: 17, k: 1024 }, 'matmul', 0],
      [{ batch: 1, m: 2, n: 2, k: 1023 }, 'matmul', 0],
      [{ batch: 1, m: 2, n: 38400, k: 2 }, 'matmul_small_k', 300],
      [{ batch: 1, m: 2, n: 2047, k: 8 }, 'matmul', 0],
      [{ batch: 1, m: 2, n: 4096, k: 9 }, 'matmul', 0],
    ];
    for (const [geometry, name, workgroups] of cases) {
      const plan = planMatmul(geometry, {}, gpu.limits);
      assert.equal(plan.spec.name, name, describeCase({ geometry }));
      if (workgroups > 0) assert.equal(plan.workgroups, workgroups);
    }
  });

  it('rejects invalid sizes and activations', () => {
    assert.throws(() => planMatmul({ batch: 1, m: 0, n: 4, k: 4 }, {}, gpu.limits), UserError);
    assert.throws(() => planMatmul({ batch: 1, m: 2.5, n: 4, k: 4 }, {}, gpu.limits), /m must/);
    assert.throws(
      () =>
        planMatmul(
          { batch: 1, m: 4, n: 4, k: 4 },
          { activation: 'swish' as Activation },
          gpu.limits,
        ),
      /Unknown activation 'swish'/,
    );
  });

  it('rejects tensors over the binding limit', () => {
    const limits = {
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeInvocationsPerWorkgroup: 256,
      maxStorageBufferBindingSize: 1024,
    };
    assert.throws(
      () => planMatmul({ batch: 1, m: 16, n: 16, k: 32 }, {}, limits),
      (error: unknown) => error instanceof GpuLimitError && /matmul A/.test(error.message),
    );
    assert.throws(
      () => planMatmul({ batch: 65536, m: 256, n: 256, k: 1 }, {}, gpu.limits),
      /2\^32/,
    );
  });
});
