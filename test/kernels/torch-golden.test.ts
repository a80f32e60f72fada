// PyTorch golden values (scripts/fixtures/torch_ops.py, torch 1.13) for each layer type's
// forward and backward and for three SGD and Adam steps, run on the GPU kernels.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { KernelPlan } from '../../src/kernels/common.js';
import {
  planCrossEntropy,
  planCrossEntropyBackward,
  type CrossEntropyGeometry,
} from '../../src/kernels/cross-entropy.js';
import { planUnary, planUnaryBackward } from '../../src/kernels/elementwise.js';
import {
  planPointwiseLoss,
  planPointwiseLossBackward,
  type PointwiseLossGeometry,
} from '../../src/kernels/losses.js';
import {
  normStatsElements,
  planBatchNormRunning,
  planNormAffineGrad,
  planNormApply,
  planNormBackward,
  planNormBackwardSums,
  planNormStats,
  type NormGeometry,
} from '../../src/kernels/norm.js';
import {
  adamHyperparameters,
  HYPER_BYTES,
  planAdam,
  planSgd,
  sgdHyperparameters,
} from '../../src/kernels/optimizer.js';
import {
  planAdaptiveAvgPool,
  planAdaptiveAvgPoolBackward,
  planAdaptiveMaxPool,
  planAdaptiveMaxPoolBackward,
  planAvgPool,
  planAvgPoolBackward,
  planMaxPool,
  planMaxPoolBackward,
} from '../../src/kernels/pool.js';
import { planSoftmax, planSoftmaxBackward } from '../../src/kernels/softmax.js';
import { unarySaves, type UnaryOp } from '../../src/kernels/unary-ops.js';
import {
  planUpsample,
  planUpsampleBackward,
  type UpsampleGeometry,
} from '../../src/kernels/upsample.js';
import { acquireGpu, BufferUsage, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, runPlan } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// Both sides are f32 but round differently: |ours - torch| <= TOLERANCE * (1 + |torch|).
const TOLERANCE = 1e-5;

function fixture<T>(name: string): T {
  const url = new URL(`../fixtures/torch/ops-${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

const f32 = (values: number[]) => Float32Array.from(values);

describe('PyTorch golden values', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  async function dispatch(plan: KernelPlan, buffers: GPUBuffer[]): Promise<void> {
    await gpu.run(await gpu.kernel(plan.spec), buffers, plan.workgroups);
  }

  type ActivationCase = {
    op: UnaryOp;
    shape: number[];
    x: number[];
    dy: number[];
    y: number[];
    dx: number[];
  };
  for (const c of fixture<ActivationCase[]>('activations')) {
    it(`${c.op.op} forward and backward`, async () => {
      const x = f32(c.x);
      const [y] = await runPlan(gpu, planUnary([c.op], c.shape, LIMITS), [x], [x.length]);
      assert.ok(maxMixedError(y!, c.y) <= TOLERANCE, 'forward');
      const saves = unarySaves(c.op);
      const inputs = saves === 'none' ? [f32(c.dy)] : [saves === 'output' ? y! : x, f32(c.dy)];
      const [dx] = await runPlan(gpu, planUnaryBackward(c.op, c.shape, LIMITS), inputs, [x.length]);
      assert.ok(maxMixedError(dx!, c.dx) <= TOLERANCE, 'backward');
    });
  }

  type PoolCase = {
    kind: 'maxPool' | 'avgPool' | 'adaptiveAvgPool' | 'adaptiveMaxPool';
    geometry: never;
    x: number[];
    y: number[];
    argmax?: number[];
    dy: number[];
    dx: number[];
  };
  for (const c of fixture<PoolCase[]>('pooling')) {
    it(`${c.kind} forward and backward`, async () => {
      const x = f32(c.x);
      const dy = f32(c.dy);
      let y: Float32Array;
      let dx: Float32Array;
      if (c.kind === 'maxPool' || c.kind === 'adaptiveMaxPool') {
        const adaptive = c.kind === 'adaptiveMaxPool';
        const forward = adaptive
          ? planAdaptiveMaxPool(c.geometry, LIMITS)
          : planMaxPool(c.geometry, LIMITS);
        const [values, argmax] = await runPlan(gpu, forward, [x], [c.y.length, c.y.length]);
        y = values!;
        const indices = new Uint32Array(argmax!.buffer);
        if (c.argmax) assert.deepEqual([...indices], c.argmax);
        const backward = adaptive
          ? planAdaptiveMaxPoolBackward(c.geometry, LIMITS)
          : planMaxPoolBackward(c.geometry, LIMITS);
        [dx] = (await runPlan(gpu, backward, [dy, indices], [x.length])) as [Float32Array];
      } else {
        const adaptive = c.kind === 'adaptiveAvgPool';
        const forward = adaptive
          ? planAdaptiveAvgPool(c.geometry, LIMITS)
          : planAvgPool(c.geometry, LIMITS);
        const backward = adaptive
          ? planAdaptiveAvgPoolBackward(c.geometry, LIMITS)
          : planAvgPoolBackward(c.geometry, LIMITS);
        [y] = (await runPlan(gpu, forward, [x], [c.y.length])) as [Float32Array];
        [dx] = (await runPlan(gpu, backward, [dy], [x.length])) as [Float32Array];
      }
      assert.ok(maxMixedError(y, c.y) <= TOLERANCE, 'forward');
      assert.ok(maxMixedError(dx, c.dx) <= TOLERANCE, 'backward');
    });
  }

  type UpsampleCase = {
    geometry: UpsampleGeometry;
    x: number[];
    y: number[];
    dy: number[];
    dx: number[];
  };
  for (const c of fixture<UpsampleCase[]>('upsample')) {
    it(`upsample ${c.geometry.mode} to [${c.geometry.outputSize}] forward and backward`, async () => {
      const [y] = await runPlan(gpu, planUpsample(c.geometry, LIMITS), [f32(c.x)], [c.y.length]);
      assert.ok(maxMixedError(y!, c.y) <= TOLERANCE, 'forward');
      const backward = planUpsampleBackward(c.geometry, LIMITS);
      const [dx] = await runPlan(gpu, backward, [f32(c.dy)], [c.x.length]);
      assert.ok(maxMixedError(dx!, c.dx) <= TOLERANCE, 'backward');
    });
  }

  type NormCase = {
    geometry: NormGeometry;
    training: boolean;
    x: number[];
    weight: number[];
    bias: number[];
    runningMean?: number[];
    runningVar?: number[];
    newRunningMean?: number[];
    newRunningVar?: number[];
    dy: number[];
    y: number[];
    dx: number[];
    dweight: number[];
    dbias: number[];
  };
  for (const c of fixture<NormCase[]>('normalisation')) {
    it(`${c.geometry.kind} ${c.training ? 'training' : 'evaluation'} forward and backward`, async () => {
      const g = c.geometry;
      const statsBytes = normStatsElements(g, LIMITS) * 4;
      const b = {
        x: gpu.upload('x', f32(c.x)),
        dy: gpu.upload('dy', f32(c.dy)),
        weight: gpu.upload('weight', f32(c.weight)),
        bias: gpu.upload('bias', f32(c.bias)),
        runningMean: gpu.upload('running mean', f32(c.runningMean ?? [0])),
        runningVar: gpu.upload('running var', f32(c.runningVar ?? [0])),
        stats: gpu.createBuffer('stats', statsBytes),
        sums: gpu.createBuffer('sums', statsBytes),
        y: gpu.createBuffer('y', c.x.length * 4),
        dx: gpu.createBuffer('dx', c.x.length * 4),
        dweight: gpu.createBuffer('dweight', c.weight.length * 4),
        dbias: gpu.createBuffer('dbias', c.weight.length * 4),
      };
      const running = [b.stats, b.runningMean, b.runningVar];
      if (c.training) {
        await dispatch(planNormStats(g, LIMITS), [b.x, b.stats]);
        if (g.kind === 'batchNorm') await dispatch(planBatchNormRunning(g, true, LIMITS), running);
        await dispatch(planNormBackwardSums(g, LIMITS), [b.x, b.dy, b.stats, b.weight, b.sums]);
      } else {
        await dispatch(planBatchNormRunning(g, false, LIMITS), running);
      }
      await dispatch(planNormApply(g, LIMITS), [b.x, b.stats, b.weight, b.bias, b.y]);
      await dispatch(planNormBackward(g, c.training, LIMITS), [
        b.x,
        b.dy,
        b.stats,
        b.weight,
        b.sums,
        b.dx,
      ]);
      await dispatch(planNormAffineGrad(g, LIMITS), [b.x, b.dy, b.stats, b.dweight, b.dbias]);
      const checks: [GPUBuffer, number[] | undefined, string][] = [
        [b.y, c.y, 'forward'],
        [b.dx, c.dx, 'dx'],
        [b.dweight, c.dweight, 'dweight'],
        [b.dbias, c.dbias, 'dbias'],
        [b.runningMean, c.newRunningMean, 'running mean'],
        [b.runningVar, c.newRunningVar, 'running var'],
      ];
      for (const [buffer, expected, label] of checks) {
        if (!expected) continue;
        const actual = await gpu.readF32(buffer, expected.length);
        assert.ok(maxMixedError(actual, expected) <= TOLERANCE, label);
      }
      for (const buffer of Object.values(b)) buffer.destroy();
    });
  }

  type SoftmaxCase =
    | {
        kind: 'softmax';
        log: boolean;
        shape: number[];
        axis: number;
        x: number[];
        y: number[];
        dy: number[];
        dx: number[];
      }
    | {
        kind: 'crossEntropy';
        geometry: CrossEntropyGeometry;
        x: number[];
        targets: number[];
        weights: number[];
        loss: number[];
        dloss: number[];
        dx: number[];
      };
  for (const c of fixture<SoftmaxCase[]>('softmax')) {
    const label =
      c.kind === 'softmax'
        ? `${c.log ? 'log-softmax' : 'softmax'}`
        : `cross-entropy ${JSON.stringify(c.geometry)}`;
    it(`${label} forward and backward`, async () => {
      if (c.kind === 'softmax') {
        const geometry = { shape: c.shape, axis: c.axis, log: c.log };
        const [y] = await runPlan(gpu, planSoftmax(geometry, LIMITS), [f32(c.x)], [c.x.length]);
        assert.ok(maxMixedError(y!, c.y) <= TOLERANCE, 'forward');
        const [dx] = await runPlan(
          gpu,
          planSoftmaxBackward(geometry, LIMITS),
          [y!, f32(c.dy)],
          [c.x.length],
        );
        assert.ok(maxMixedError(dx!, c.dx) <= TOLERANCE, 'backward');
        return;
      }
      const plan = planCrossEntropy(c.geometry, LIMITS);
      const b = {
        x: gpu.upload('x', f32(c.x)),
        targets: gpu.upload('targets', Int32Array.from(c.targets)),
        weights: gpu.upload('weights', f32(c.weights)),
        rowLoss: gpu.createBuffer('row loss', plan.rowCount * 4),
        rowWeight: gpu.createBuffer('row weight', plan.rowCount * 4),
        totals: gpu.createBuffer('totals', 8),
        dloss: gpu.upload('dloss', f32(c.dloss)),
        dx: gpu.createBuffer('dx', c.x.length * 4),
      };
      await dispatch(plan.rows, [b.x, b.targets, b.weights, b.rowLoss, b.rowWeight]);
      if (plan.total) await dispatch(plan.total, [b.rowLoss, b.rowWeight, b.totals]);
      const backward = planCrossEntropyBackward(c.geometry, LIMITS);
      await dispatch(backward, [b.x, b.targets, b.weights, b.totals, b.dloss, b.dx]);
      const loss = await gpu.readF32(plan.total ? b.totals : b.rowLoss, c.loss.length);
      assert.ok(maxMixedError(loss, c.loss) <= TOLERANCE, 'loss');
      assert.ok(maxMixedError(await gpu.readF32(b.dx, c.x.length), c.dx) <= TOLERANCE, 'gradient');
      for (const buffer of Object.values(b)) buffer.destroy();
    });
  }

  type LossCase = {
    geometry: PointwiseLossGeometry;
    x: number[];
    target: number[];
    loss: number[];
    dloss: number[];
    dx: number[];
  };
  for (const c of fixture<LossCase[]>('losses')) {
    it(`${c.geometry.loss} ${c.geometry.reduction} loss and gradient`, async () => {
      const [x, target] = [f32(c.x), f32(c.target)];
      const plan = planPointwiseLoss(c.geometry, LIMITS);
      let [loss] = await runPlan(gpu, plan.elementwise, [x, target], [x.length]);
      if (plan.reduce) [loss] = await runPlan(gpu, plan.reduce, [loss!], [1]);
      assert.ok(maxMixedError(loss!, c.loss) <= TOLERANCE, 'loss');
      const backward = planPointwiseLossBackward(c.geometry, LIMITS);
      const [dx] = await runPlan(gpu, backward, [x, target, f32(c.dloss)], [x.length]);
      assert.ok(maxMixedError(dx!, c.dx) <= TOLERANCE, 'gradient');
    });
  }

  type OptimizerCase = {
    kind: 'sgd' | 'adam';
    options: never;
    initial: number[][];
    grads: number[][][];
    final: number[][];
  };
  for (const c of fixture<OptimizerCase[]>('optimizers')) {
    it(`${c.kind} ${JSON.stringify(c.options)} three steps`, async () => {
      for (const [k, initial] of c.initial.entries()) {
        const n = initial.length;
        const isAdam = c.kind === 'adam';
        const plan = isAdam ? planAdam(n, c.options, LIMITS) : planSgd(n, c.options, LIMITS);
        const param = gpu.upload('param', f32(initial));
        const grad = gpu.createBuffer('grad', n * 4);
        const states = Array.from({ length: isAdam ? 3 : 1 }, (_, s) =>
          gpu.upload(`state ${s}`, new Float32Array(n)),
        );
        const uniform = gpu.createBuffer(
          'hyper',
          HYPER_BYTES,
          BufferUsage.UNIFORM | BufferUsage.COPY_DST,
        );
        for (let step = 1; step <= 3; step++) {
          gpu.write(grad, f32(c.grads[step - 1]![k]!));
          const hyper = isAdam
            ? adamHyperparameters(c.options, step)
            : sgdHyperparameters(c.options, step);
          gpu.write(uniform, hyper);
          await dispatch(plan, [param, grad, ...states, uniform]);
        }
        const actual = await gpu.readF32(param, n);
        assert.ok(maxMixedError(actual, c.final[k]!) <= TOLERANCE, `parameter ${k}`);
        for (const buffer of [param, grad, uniform, ...states]) buffer.destroy();
      }
    });
  }
});
