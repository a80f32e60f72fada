// PyTorch golden values (scripts/fixtures/torch_ops.py, torch 1.13) for the binary ops with
// broadcasting, the reductions and the overlap losses, run on the GPU kernels.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { planBinary, planBinaryBackward, type BinaryOp } from '../../src/kernels/binary.js';
import { numel, type KernelPlan } from '../../src/kernels/common.js';
import { planOverlapLoss, type OverlapLossGeometry } from '../../src/kernels/overlap-losses.js';
import { planReduce, planReduceBackward, type ReduceOp } from '../../src/kernels/reduce.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// Both sides are f32 but round differently: |ours - torch| <= TOLERANCE * (1 + |torch|).
const TOLERANCE = 1e-5;

function fixture<T>(name: string): T {
  const url = new URL(`../fixtures/torch/ops-${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

const f32 = (values: number[]) => Float32Array.from(values);

type Case =
  | {
      kind: 'binary';
      op: BinaryOp;
      aShape: number[];
      bShape: number[];
      a: number[];
      b: number[];
      dy: number[];
      y: number[];
      da: number[];
      db: number[];
    }
  | {
      kind: 'reduce';
      op: ReduceOp;
      shape: number[];
      axes: number[];
      x: number[];
      dy: number[];
      y: number[];
      dx: number[];
    };

describe('PyTorch golden values of binary ops, reductions and overlap losses', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  async function gradientOf(
    c: Extract<Case, { kind: 'binary' }>,
    operand: 0 | 1,
  ): Promise<Float32Array> {
    const plan = planBinaryBackward(c.op, operand, c.aShape, c.bShape, LIMITS);
    const tensors = { a: f32(c.a), b: f32(c.b), dy: f32(c.dy) };
    const inputs = plan.inputs.map((name) => tensors[name]);
    const size = numel(operand === 0 ? c.aShape : c.bShape);
    if (!plan.reduce) return (await runPlan(gpu, plan.elementwise, inputs, [size]))[0]!;
    const [scratch] = await runPlan(gpu, plan.elementwise, inputs, [plan.scratchElements]);
    return (await runPlan(gpu, plan.reduce, [scratch!], [size]))[0]!;
  }

  for (const c of fixture<Case[]>('binary')) {
    if (c.kind === 'binary') {
      it(`${c.op} of [${c.aShape}] and [${c.bShape}]`, async () => {
        const plan = planBinary(c.op, c.aShape, c.bShape, LIMITS);
        const [y] = await runPlan(gpu, plan, [f32(c.a), f32(c.b)], [c.y.length]);
        assert.ok(maxMixedError(y!, c.y) <= TOLERANCE, 'forward');
        assert.ok(maxMixedError(await gradientOf(c, 0), c.da) <= TOLERANCE, 'gradient of a');
        assert.ok(maxMixedError(await gradientOf(c, 1), c.db) <= TOLERANCE, 'gradient of b');
      });
    } else {
      it(`${c.op} over axes [${c.axes}]`, async () => {
        const geometry = { shape: c.shape, axes: c.axes, op: c.op };
        const [y] = await runPlan(gpu, planReduce(geometry, LIMITS), [f32(c.x)], [c.y.length]);
        assert.ok(maxMixedError(y!, c.y) <= TOLERANCE, 'forward');
        const inputs = c.op === 'max' ? [f32(c.x), y!, f32(c.dy)] : [f32(c.dy)];
        const [dx] = await runPlan(gpu, planReduceBackward(geometry, LIMITS), inputs, [c.x.length]);
        assert.ok(maxMixedError(dx!, c.dx) <= TOLERANCE, 'backward');
      });
    }
  }

  type OverlapCase = {
    geometry: OverlapLossGeometry;
    p: number[];
    labels: number[];
    loss: number[];
    dp: number[];
  };
  for (const c of fixture<OverlapCase[]>('overlap')) {
    it(`${c.geometry.loss} ${JSON.stringify(c.geometry)} loss and gradient`, async () => {
      const plan = planOverlapLoss(c.geometry, LIMITS);
      const b = {
        p: gpu.upload('p', f32(c.p)),
        labels: gpu.upload('labels', Int32Array.from(c.labels)),
        sums: gpu.createBuffer('sums', plan.pairs * 16),
        dLoss: gpu.upload('dloss', Float32Array.of(1)),
        loss: gpu.createBuffer('loss', 4),
        coefficients: gpu.createBuffer('coefficients', plan.pairs * 8),
        dp: gpu.createBuffer('dp', c.p.length * 4),
      };
      const run = async (step: KernelPlan, buffers: GPUBuffer[]) =>
        gpu.run(await gpu.kernel(step.spec), buffers, step.workgroups);
      await run(plan.sums, [b.p, b.labels, b.sums]);
      await run(plan.loss, [b.sums, b.dLoss, b.loss, b.coefficients]);
      await run(plan.backward, [b.p, b.labels, b.coefficients, b.dp]);
      assert.ok(maxMixedError(await gpu.readF32(b.loss, 1), c.loss) <= TOLERANCE, 'loss');
      assert.ok(maxMixedError(await gpu.readF32(b.dp, c.p.length), c.dp) <= TOLERANCE, 'gradient');
      for (const buffer of Object.values(b)) buffer.destroy();
    });
  }
});
