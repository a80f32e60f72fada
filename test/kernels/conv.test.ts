import assert from 'node:assert/strict';
import { GpuLimitError, UserError } from '../../src/errors.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { convTensorSizes, resolveConv, volume, type ConvGeometry } from '../../src/kernels/conv.js';
import { planConvForward, planForwardPacking } from '../../src/kernels/conv-forward.js';
import {
  planConvInputGrad,
  planConvTranspose,
  planInputGradPacking,
  planTransposePacking,
  transposeAsConv,
  type ConvTransposeGeometry,
} from '../../src/kernels/conv-dgrad.js';
import {
  planChannelSum,
  planConvWeightGrad,
  type SplitPlan,
} from '../../src/kernels/conv-wgrad.js';
import type { Activation } from '../../src/kernels/plan.js';
import {
  convReference,
  convReferenceGrad,
  convTransposeReference,
} from '../../src/kernels/reference/conv.js';
import { activateReference } from '../../src/kernels/reference/matmul.js';
import { assertClose, runPlan, seededValues } from './matmul-helpers.js';

interface Case {
  name: string;
  geometry: ConvGeometry;
  activation?: Activation;
}

const CASES: Case[] = [
  {
    name: '1D padding 1',
    geometry: {
      batch: 1,
      inChannels: 3,
      outChannels: 5,
      inputSize: [17],
      kernelSize: [3],
      padding: [[1, 1]],
    },
  },
  {
    name: '2D stride 2x1, asymmetric padding, dilation 1x2',
    geometry: {
      batch: 2,
      inChannels: 4,
      outChannels: 6,
      inputSize: [9, 11],
      kernelSize: [3, 2],
      stride: [2, 1],
      padding: [
        [1, 0],
        [0, 1],
      ],
      dilation: [1, 2],
    },
    activation: 'relu',
  },
  {
    name: '3D groups 2, stride 2, padding 1',
    geometry: {
      batch: 2,
      inChannels: 4,
      outChannels: 6,
      inputSize: [5, 7, 6],
      kernelSize: [3, 3, 3],
      stride: [2, 2, 2],
      padding: [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
      groups: 2,
    },
  },
  {
    name: '3D dilation 2, asymmetric padding',
    geometry: {
      batch: 1,
      inChannels: 2,
      outChannels: 3,
      inputSize: [7, 6, 5],
      kernelSize: [3, 3, 2],
      padding: [
        [2, 2],
        [1, 0],
        [0, 1],
      ],
      dilation: [2, 2, 1],
    },
    activation: 'leakyRelu',
  },
  {
    name: '3D one input channel, kernel 3, padding 1',
    geometry: {
      batch: 1,
      inChannels: 1,
      outChannels: 8,
      inputSize: [9, 10, 11],
      kernelSize: [3, 3, 3],
      padding: [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
    },
    activation: 'relu',
  },
  {
    name: '3D 8 to 16 channels, batch 2',
    geometry: {
      batch: 2,
      inChannels: 8,
      outChannels: 16,
      inputSize: [6, 5, 7],
      kernelSize: [3, 3, 3],
      padding: [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
    },
    activation: 'elu',
  },
  {
    name: '3D kernel 3x3x5, one kernel row per direct block',
    geometry: {
      batch: 1,
      inChannels: 1,
      outChannels: 8,
      inputSize: [4, 5, 7],
      kernelSize: [3, 3, 5],
      padding: [
        [1, 1],
        [1, 1],
        [2, 2],
      ],
    },
  },
  {
    name: '3D groups 2, 8 to 8 channels, batch 2',
    geometry: {
      batch: 2,
      inChannels: 8,
      outChannels: 8,
      inputSize: [3, 4, 5],
      kernelSize: [3, 3, 3],
      padding: [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
      groups: 2,
    },
    activation: 'relu',
  },
  {
    name: '2D depthwise, groups 3, stride 2',
    geometry: {
      batch: 1,
      inChannels: 3,
      outChannels: 6,
      inputSize: [8, 9],
      kernelSize: [3, 3],
      stride: [2, 2],
      padding: [
        [0, 1],
        [1, 0],
      ],
      groups: 3,
    },
  },
];

/** WebGPU's default uniform binding limit, known before the adapter is. */
const DEFAULT_UNIFORM_LIMITS = { maxUniformBufferBindingSize: 65536 };

/** WebGPU's default limits that the planners read, known before the adapter is. */
const DEFAULT_LIMITS = {
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxStorageBufferBindingSize: 134217728,
};

/** Tolerance for a sum of `terms` products of values in [-1, 1) computed in f32. */
function tolerance(terms: number): number {
  return 2e-6 * terms + 1e-6;
}

describe('convolution kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  /** Runs a weight-gradient plan that also writes the bias gradient (binding 3). */
  async function runWithBias(
    plan: SplitPlan,
    inputs: Float32Array[],
    weights: number,
    channels: number,
  ): Promise<Float32Array[]> {
    const buffers = inputs.map((data, i) => gpu.upload(`input ${i}`, data));
    const outputs = [
      { reduce: plan.reduce, scratch: plan.scratchElements, length: weights },
      { reduce: plan.bias!.reduce, scratch: plan.bias!.scratchElements, length: channels },
    ].map(({ reduce, scratch, length }) => ({
      reduce,
      length,
      scratch: gpu.createBuffer('scratch', 4 * Math.max(1, reduce ? scratch : length)),
      result: gpu.createBuffer('result', 4 * length),
    }));
    const kernel = await gpu.kernel(plan.product.spec);
    await gpu.run(kernel, [...buffers, ...outputs.map((o) => o.scratch)], plan.product.workgroups);
    const results = [];
    for (const { reduce, length, scratch, result } of outputs) {
      if (reduce)
        await gpu.run(await gpu.kernel(reduce.spec), [scratch, result], reduce.workgroups);
      results.push(await gpu.readF32(reduce ? result : scratch, length));
      scratch.destroy();
      result.destroy();
    }
    for (const buffer of buffers) buffer.destroy();
    return results;
  }

  async function runSplit(plan: SplitPlan, inputs: Float32Array[], length: number) {
    if (!plan.reduce) return runPlan(gpu, plan.product, inputs, length);
    const scratch = await runPlan(gpu, plan.product, inputs, plan.scratchElements);
    return runPlan(gpu, plan.reduce, [scratch], length);
  }

  for (const [index, { name, geometry, activation = 'none' }] of CASES.entries()) {
    const conv = resolveConv(geometry);
    const sizes = convTensorSizes(conv);
    const x = seededValues(sizes.input, 10 + index);
    const weight = seededValues(sizes.weight, 20 + index);
    const bias = seededValues(conv.outChannels, 30 + index);
    const dy = seededValues(sizes.output, 40 + index);
    const groupIn = conv.inChannels / conv.groups;
    const groupOut = conv.outChannels / conv.groups;
    const kernelVolume = volume(conv.kernel);

    for (const algorithm of ['gemm', 'direct'] as const) {
      it(`forward (${algorithm}) matches float64: ${name}`, async () => {
        const epilogue = { bias: true, activation };
        const plan = planConvForward(geometry, epilogue, gpu.limits, undefined, algorithm);
        const actual = await runPlan(gpu, plan, [x, weight, bias], sizes.output);
        const parameter = activation === 'elu' ? 1 : 0.01;
        const expected = convReference(geometry, x, weight, bias).map((v) =>
          activateReference(v, activation, parameter),
        );
        assertClose(actual, expected, tolerance(groupIn * kernelVolume), name);
      });
    }

    it(`forward without bias (direct) matches float64: ${name}`, async () => {
      const plan = planConvForward(geometry, {}, gpu.limits, undefined, 'direct');
      const actual = await runPlan(gpu, plan, [x, weight, bias], sizes.output);
      const expected = convReference(geometry, x, weight);
      assertClose(actual, expected, tolerance(groupIn * kernelVolume), name);
    });

    const forwardPacking = planForwardPacking(geometry, DEFAULT_UNIFORM_LIMITS);
    if (forwardPacking) {
      it(`forward with packed weights matches float64: ${name}`, async () => {
        const packed = await runPlan(
          gpu,
          forwardPacking.plan,
          [weight],
          forwardPacking.table.elements,
        );
        const epilogue = { bias: true, activation };
        const plan = planConvForward(
          geometry,
          epilogue,
          gpu.limits,
          undefined,
          undefined,
          forwardPacking.table,
        );
        assert.deepEqual(plan.spec.bindings.slice(0, 2), ['read-only-storage', 'uniform']);
        const actual = await runPlan(gpu, plan, [x, packed, bias], sizes.output);
        const parameter = activation === 'elu' ? 1 : 0.01;
        const expected = convReference(geometry, x, weight, bias).map((v) =>
          activateReference(v, activation, parameter),
        );
        assertClose(actual, expected, tolerance(groupIn * kernelVolume), name);
      });
    }
    const gradientPacking = planInputGradPacking(geometry, DEFAULT_UNIFORM_LIMITS);
    if (gradientPacking) {
      it(`input gradient with packed weights matches float64: ${name}`, async () => {
        const packed = await runPlan(
          gpu,
          gradientPacking.plan,
          [weight],
          gradientPacking.table.elements,
        );
        const plan = planConvInputGrad(geometry, gpu.limits, undefined, gradientPacking.table);
        const actual = await runPlan(gpu, plan, [dy, packed, bias], sizes.input);
        const { dx } = convReferenceGrad(geometry, x, weight, dy);
        assertClose(actual, dx, tolerance(groupOut * kernelVolume), name);
      });
    }

    const unitStride = conv.stride.every((s) => s === 1);
    for (const algorithm of ['gemm', 'direct', undefined] as const) {
      const label = algorithm ?? 'automatic';
      if (algorithm === 'direct' && !unitStride) {
        it(`input gradient (direct) rejects strides: ${name}`, () => {
          const isStrideError = (error: unknown) =>
            error instanceof UserError && /needs stride 1/.test(error.message);
          assert.throws(() => planConvInputGrad(geometry, gpu.limits, 'direct'), isStrideError);
        });
        continue;
      }
      it(`input gradient (${label}) matches float64: ${name}`, async () => {
        const plan = planConvInputGrad(geometry, gpu.limits, algorithm);
        const actual = await runPlan(gpu, plan, [dy, weight, bias], sizes.input);
        const { dx } = convReferenceGrad(geometry, x, weight, dy);
        assertClose(actual, dx, tolerance(groupOut * kernelVolume), name);
      });
    }

    const withBias = planConvWeightGrad(geometry, DEFAULT_LIMITS, 3, undefined, undefined, true);
    if (withBias.bias) {
      it(`weight and bias gradients in one dispatch match float64: ${name}`, async () => {
        const { dweight } = convReferenceGrad(geometry, x, weight, dy);
        const spatial = volume(conv.output);
        const dbias = new Float64Array(conv.outChannels);
        dy.forEach((v, i) => (dbias[Math.floor(i / spatial) % conv.outChannels]! += v));
        const terms = conv.batch * spatial;
        for (const splits of [1, 3]) {
          const plan = planConvWeightGrad(geometry, gpu.limits, splits, undefined, 'direct', true);
          const [dw, db] = await runWithBias(plan, [dy, x], sizes.weight, conv.outChannels);
          assertClose(dw, dweight, tolerance(terms), `${name}: weights, ${splits} splits`);
          assertClose(db, dbias, tolerance(terms), `${name}: bias, ${splits} splits`);
        }
      });
    }

    for (const algorithm of ['gemm', 'direct', undefined] as const) {
      it(`weight gradient (${algorithm ?? 'automatic'}) matches float64: ${name}`, async () => {
        const { dweight } = convReferenceGrad(geometry, x, weight, dy);
        const terms = conv.batch * volume(conv.output);
        for (const splits of [1, 3, undefined]) {
          const plan = planConvWeightGrad(geometry, gpu.limits, splits, undefined, algorithm);
          assert.equal(plan.reduce === undefined, plan.scratchElements === 0);
          const actual = await runSplit(plan, [dy, x], sizes.weight);
          assertClose(actual, dweight, tolerance(terms), `${name}, splits ${splits ?? 'auto'}`);
        }
      });
    }

    it(`bias gradient matches float64: ${name}`, async () => {
      const plan = planChannelSum(
        { outer: conv.batch, channels: conv.outChannels, inner: volume(conv.output) },
        gpu.limits,
      );
      const actual = await runSplit(plan, [dy], conv.outChannels);
      const { dbias } = convReferenceGrad(geometry, x, weight, dy);
      assertClose(actual, dbias, tolerance(conv.batch * volume(conv.output)), name);
    });
  }

  const TRANSPOSE_CASES: [string, ConvTransposeGeometry][] = [
    [
      '1D stride 3, output padding 2',
      {
        batch: 2,
        inChannels: 3,
        outChannels: 2,
        inputSize: [6],
        kernelSize: [4],
        stride: [3],
        outputPadding: [2],
      },
    ],
    [
      '3D stride 2, padding 1, output padding 1',
      {
        batch: 1,
        inChannels: 8,
        outChannels: 4,
        inputSize: [3, 4, 5],
        kernelSize: [3, 3, 3],
        stride: [2, 2, 2],
        padding: [
          [1, 1],
          [1, 1],
          [1, 1],
        ],
        outputPadding: [1, 1, 1],
      },
    ],
    [
      '2D groups 2, dilation 2, asymmetric padding',
      {
        batch: 1,
        inChannels: 4,
        outChannels: 6,
        inputSize: [5, 6],
        kernelSize: [3, 2],
        padding: [
          [2, 1],
          [0, 1],
        ],
        dilation: [2, 1],
        groups: 2,
      },
    ],
    [
      '3D stride 1, groups 2, 4 to 16 channels (packed weights)',
      {
        batch: 2,
        inChannels: 4,
        outChannels: 16,
        inputSize: [3, 4, 5],
        kernelSize: [3, 3, 3],
        padding: [
          [1, 1],
          [0, 2],
          [1, 1],
        ],
        groups: 2,
      },
    ],
  ];

  for (const [index, [name, geometry]] of TRANSPOSE_CASES.entries()) {
    it(`transposed forward matches float64: ${name}`, async () => {
      const sizes = convTensorSizes(resolveConv(transposeAsConv(geometry)));
      const x = seededValues(sizes.output, 50 + index);
      const weight = seededValues(sizes.weight, 60 + index);
      const bias = seededValues(geometry.outChannels, 70 + index);
      const plan = planConvTranspose(geometry, { bias: true, activation: 'tanh' }, gpu.limits);
      const actual = await runPlan(gpu, plan, [x, weight, bias], sizes.input);
      const expected = convTransposeReference(geometry, x, weight, bias).map(Math.tanh);
      const terms = (geometry.inChannels / (geometry.groups ?? 1)) * volume(geometry.kernelSize);
      assertClose(actual, expected, tolerance(terms), name);
      const packing = planTransposePacking(geometry, gpu.limits);
      if (name.includes('packed weights')) assert.ok(packing, 'expected packed weights');
      if (!packing) return;
      const packed = await runPlan(gpu, packing.plan, [weight], packing.table.elements);
      const epilogue = { bias: true, activation: 'tanh' } as const;
      const packedPlan = planConvTranspose(geometry, epilogue, gpu.limits, packing.table);
      const fromPacked = await runPlan(gpu, packedPlan, [x, packed, bias], sizes.input);
      assertClose(fromPacked, expected, tolerance(terms), `${name} (packed weights)`);
    });
  }

  it('packs weights only when they fit', () => {
    const layer = (inChannels: number, outChannels: number): ConvGeometry => ({
      batch: 1,
      inChannels,
      outChannels,
      inputSize: [6, 6, 6],
      kernelSize: [3, 3, 3],
      padding: [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
    });
    const limits = { maxUniformBufferBindingSize: 65536 };
    assert.equal(planForwardPacking(layer(16, 32), limits)?.table.elements, 16 * 27 * 32);
    assert.equal(planForwardPacking(layer(16, 6), limits), undefined);
    assert.equal(planForwardPacking(layer(16, 32), {}), undefined);
    // 32 x 32 x 27 floats are 110592 bytes, over the limit.
    assert.equal(planForwardPacking(layer(32, 32), limits), undefined);
    assert.equal(planInputGradPacking(layer(8, 4), limits)?.table.elements, 4 * 27 * 8);
    assert.equal(planInputGradPacking(layer(3, 4), limits), undefined);
  });

  // [outer, channels, inner, passes]: flattened parts (inner < 1024), contiguous vec4 parts,
  // contiguous scalar parts (inner not a multiple of 4) and rows cut into several parts.
  const CHANNEL_SUMS: [number, number, number, number][] = [
    [3, 2, 1, 1],
    [2, 3, 1000, 1],
    [2, 3, 20000, 2],
    [1, 2, 5003, 1],
    [3, 2, 16385, 2],
    [2, 1, 40002, 2],
  ];
  for (const [outer, channels, inner, passes] of CHANNEL_SUMS) {
    it(`sums [${outer}, ${channels}, ${inner}] per channel in ${passes} pass(es)`, async () => {
      const plan = planChannelSum({ outer, channels, inner }, gpu.limits);
      assert.equal(plan.reduce ? 2 : 1, passes);
      const values = seededValues(outer * channels * inner, 5 + inner);
      const actual = await runSplit(plan, [values], channels);
      const expected = new Array<number>(channels).fill(0);
      values.forEach((value, i) => (expected[Math.floor(i / inner) % channels]! += value));
      assertClose(actual, expected, 1e-6 * outer * inner, 'channel sums');
      const again = await runSplit(plan, [values], channels);
      assert.deepEqual(new Uint32Array(again.buffer), new Uint32Array(actual.buffer));
    });
  }

  it('gives identical bits on two runs', async () => {
    const geometry = CASES[5]!.geometry;
    const sizes = convTensorSizes(resolveConv(geometry));
    const dy = seededValues(sizes.output, 3);
    const x = seededValues(sizes.input, 4);
    const plan = planConvWeightGrad(geometry, gpu.limits, 4);
    const first = await runPlan(gpu, plan.product, [dy, x], plan.scratchElements);
    const second = await runPlan(gpu, plan.product, [dy, x], plan.scratchElements);
    assert.deepEqual(new Uint32Array(first.buffer), new Uint32Array(second.buffer));
  });

  it('rejects tensors over the binding limit', () => {
    const limits = {
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeInvocationsPerWorkgroup: 256,
      maxStorageBufferBindingSize: 128 * 2 ** 20,
    };
    // 2 x 8 x 256^3 f32 values are 1 GiB, over the 128 MiB binding limit given here.
    const geometry: ConvGeometry = {
      batch: 2,
      inChannels: 1,
      outChannels: 8,
      inputSize: [256, 256, 256],
      kernelSize: [3, 3, 3],
      padding: [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
    };
    const isOutputLimit = (error: unknown) =>
      error instanceof GpuLimitError && /convolution output/.test(error.message);
    const isGradientLimit = (error: unknown) =>
      error instanceof GpuLimitError && /output gradient/.test(error.message);
    assert.throws(() => planConvForward(geometry, {}, limits), isOutputLimit);
    assert.throws(() => planConvInputGrad(geometry, limits), isGradientLimit);
    assert.throws(() => planConvWeightGrad(geometry, limits), isGradientLimit);
    // The message for a weight over the limit advises a smaller layer, not a smaller input.
    const wide = { ...geometry, inChannels: 512, outChannels: 512, inputSize: [4, 4, 4] };
    const isWeightLimit = (error: unknown) =>
      error instanceof GpuLimitError &&
      /convolution weight/.test(error.message) &&
      /fewer channels or a smaller kernel/.test(error.message);
    const small = { ...limits, maxStorageBufferBindingSize: 2 ** 20 };
    assert.throws(() => planConvForward(wide, {}, small), isWeightLimit);
    assert.throws(() => planConvInputGrad(wide, small), isWeightLimit);
  });

  it('rejects direct weight gradient for wide kernels', () => {
    const geometry: ConvGeometry = {
      batch: 1,
      inChannels: 1,
      outChannels: 1,
      inputSize: [100],
      kernelSize: [80],
    };
    const isWidthError = (error: unknown) =>
      error instanceof UserError && /kernel width of at most 72, got 80/.test(error.message);
    assert.throws(
      () => planConvWeightGrad(geometry, gpu.limits, undefined, undefined, 'direct'),
      isWidthError,
    );
    const automatic = planConvWeightGrad(geometry, gpu.limits);
    assert.equal(automatic.product.spec.name, 'conv1d_weight_grad');
  });

  it('rejects invalid geometry', () => {
    const base: ConvGeometry = {
      batch: 1,
      inChannels: 4,
      outChannels: 4,
      inputSize: [8, 8],
      kernelSize: [3, 3],
    };
    const invalid: [Partial<ConvGeometry>, RegExp][] = [
      [{ inputSize: [] }, /1 to 3 spatial axes/],
      [{ kernelSize: [3] }, /kernelSize has 1 entries/],
      [{ groups: 3 }, /divisible by groups/],
      [{ stride: [0, 1] }, /stride must be an integer >= 1/],
      [
        {
          padding: [
            [-1, 0],
            [0, 0],
          ],
        },
        /padding \(before\)/,
      ],
      [{ kernelSize: [9, 3] }, /smaller than the dilated kernel/],
      [{ batch: 0 }, /batch must be/],
    ];
    for (const [change, message] of invalid) {
      assert.throws(() => planConvForward({ ...base, ...change }, {}, gpu.limits), UserError);
      assert.throws(() => planConvForward({ ...base, ...change }, {}, gpu.limits), message);
    }
  });
});
