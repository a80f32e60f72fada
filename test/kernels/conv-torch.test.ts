// Convolution kernels and the float64 reference against PyTorch's values, from
// test/fixtures/torch/conv.json (written by scripts/fixtures/torch_conv.py).

import { readFileSync } from 'node:fs';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { convTensorSizes, resolveConv, volume } from '../../src/kernels/conv.js';
import { planConvForward } from '../../src/kernels/conv-forward.js';
import {
  planConvInputGrad,
  planConvTranspose,
  transposeAsConv,
  type ConvTransposeGeometry,
} from '../../src/kernels/conv-dgrad.js';
import {
  planChannelSum,
  planConvWeightGrad,
  type SplitPlan,
} from '../../src/kernels/conv-wgrad.js';
import {
  convReference,
  convReferenceGrad,
  convTransposeReference,
} from '../../src/kernels/reference/conv.js';
import { assertClose, runPlan } from './matmul-helpers.js';

interface TorchCase {
  name: string;
  op: 'conv' | 'convTranspose';
  geometry: ConvTransposeGeometry;
  x: number[];
  weight: number[];
  bias: number[];
  dy: number[];
  y: number[];
  dx: number[];
  dweight: number[];
  dbias: number[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/torch/conv.json', import.meta.url), 'utf8'),
) as { cases: TorchCase[] };

// Inputs lie in [-1, 1); f32 sums of a few hundred products stay well inside 1e-4.
const GPU_TOLERANCE = 1e-4;
// PyTorch computes in float64 and the fixture stores 9 significant digits, so outputs of
// magnitude up to ~20 carry a rounding error of at most 1e-7.
const REFERENCE_TOLERANCE = 1e-7;

describe('convolution against PyTorch', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  async function runSplit(plan: SplitPlan, inputs: Float32Array[], length: number) {
    if (!plan.reduce) return runPlan(gpu, plan.product, inputs, length);
    const scratch = await runPlan(gpu, plan.product, inputs, plan.scratchElements);
    return runPlan(gpu, plan.reduce, [scratch], length);
  }

  for (const c of fixture.cases) {
    const x = Float32Array.from(c.x);
    const weight = Float32Array.from(c.weight);
    const bias = Float32Array.from(c.bias);
    const dy = Float32Array.from(c.dy);

    if (c.op === 'conv') {
      it(`reference matches: ${c.name}`, () => {
        assertClose(
          convReference(c.geometry, c.x, c.weight, c.bias),
          c.y,
          REFERENCE_TOLERANCE,
          'y',
        );
        const grads = convReferenceGrad(c.geometry, c.x, c.weight, c.dy);
        assertClose(grads.dx, c.dx, REFERENCE_TOLERANCE, 'dx');
        assertClose(grads.dweight, c.dweight, REFERENCE_TOLERANCE, 'dweight');
        assertClose(grads.dbias, c.dbias, REFERENCE_TOLERANCE, 'dbias');
      });

      it(`kernels match: ${c.name}`, async () => {
        const conv = resolveConv(c.geometry);
        const sizes = convTensorSizes(conv);
        const forward = planConvForward(c.geometry, { bias: true }, gpu.limits);
        assertClose(
          await runPlan(gpu, forward, [x, weight, bias], sizes.output),
          c.y,
          GPU_TOLERANCE,
          'y',
        );
        const dgrad = planConvInputGrad(c.geometry, gpu.limits);
        assertClose(
          await runPlan(gpu, dgrad, [dy, weight, bias], sizes.input),
          c.dx,
          GPU_TOLERANCE,
          'dx',
        );
        const wgrad = planConvWeightGrad(c.geometry, gpu.limits);
        assertClose(
          await runSplit(wgrad, [dy, x], sizes.weight),
          c.dweight,
          GPU_TOLERANCE,
          'dweight',
        );
        const biasGrad = planChannelSum(
          { outer: conv.batch, channels: conv.outChannels, inner: volume(conv.output) },
          gpu.limits,
        );
        assertClose(
          await runSplit(biasGrad, [dy], conv.outChannels),
          c.dbias,
          GPU_TOLERANCE,
          'dbias',
        );
      });
      continue;
    }

    it(`reference matches: ${c.name}`, () => {
      const y = convTransposeReference(c.geometry, c.x, c.weight, c.bias);
      assertClose(y, c.y, REFERENCE_TOLERANCE, 'y');
    });

    it(`kernels match: ${c.name}`, async () => {
      // The transposed convolution is the input gradient of `asConv`, so its own gradients are
      // asConv's forward (for dx) and asConv's weight gradient with x and dy swapped.
      const asConv = transposeAsConv(c.geometry);
      const conv = resolveConv(asConv);
      const sizes = convTensorSizes(conv);
      const forward = planConvTranspose(c.geometry, { bias: true }, gpu.limits);
      assertClose(
        await runPlan(gpu, forward, [x, weight, bias], sizes.input),
        c.y,
        GPU_TOLERANCE,
        'y',
      );
      const dgrad = planConvForward(asConv, {}, gpu.limits);
      assertClose(
        await runPlan(gpu, dgrad, [dy, weight, bias], sizes.output),
        c.dx,
        GPU_TOLERANCE,
        'dx',
      );
      const wgrad = planConvWeightGrad(asConv, gpu.limits);
      assertClose(
        await runSplit(wgrad, [x, dy], sizes.weight),
        c.dweight,
        GPU_TOLERANCE,
        'dweight',
      );
      const biasGrad = planChannelSum(
        { outer: conv.batch, channels: conv.inChannels, inner: volume(conv.input) },
        gpu.limits,
      );
      assertClose(await runSplit(biasGrad, [dy], conv.inChannels), c.dbias, GPU_TOLERANCE, 'dbias');
    });
  }
});
