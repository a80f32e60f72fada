import assert from 'node:assert/strict';
import { GpuLimitError } from '../../src/errors.js';
import { Graph, type Value } from '../../src/graph/ir.js';
import type { Reduction } from '../../src/kernels/cross-entropy.js';
import { compileGraph, type CompiledGraph } from '../../src/kernels/compile.js';
import { dropoutSeed } from '../../src/kernels/dropout.js';
import { dropoutSeedKey } from '../../src/kernels/lower-elementwise.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { randomValues } from './helpers.js';

// Odd sizes whose samples of 3 * 140 values still start aligned to 16 bytes.
const SHAPE = [3, 3, 5, 4, 7];
const ELEMENTS = 3 * 3 * 140;
const VOXELS = 140;
// Runs of 2 samples (3360 bytes of scores) and a rest of 1.
const SPLIT_BYTES = 4096;

const bits = (values: Float32Array) => [...new Uint32Array(values.buffer)];

interface Run {
  compiled: CompiledGraph;
  values: Float32Array[];
}

/** Compiles `graph`, writes `inputs`, runs it once and reads its outputs. */
async function run(
  gpu: Gpu,
  graph: Graph,
  inputs: Record<string, Float32Array | Int32Array>,
  options: { maxBindingBytes?: number; training?: boolean; seeds?: Map<string, Uint32Array> },
): Promise<Run> {
  const { seeds, ...compileOptions } = options;
  const compiled = await compileGraph(gpu, graph, compileOptions);
  for (const [name, data] of Object.entries(inputs)) compiled.write(name, data);
  for (const [key, data] of seeds ?? []) compiled.writeUniform(key, data);
  compiled.run();
  const values = await Promise.all(graph.outputs.map(({ value }) => compiled.read(value)));
  return { compiled, values };
}

const dispatches = (result: Run) => result.compiled.program.dispatches.length;

/** y = softmax(x) on axis 1 and dx = softmaxGrad(dy, y), or their log forms. */
function softmaxGraph(log: boolean, shape = SHAPE) {
  const graph = new Graph();
  const x = graph.addInput('x', shape);
  const dy = graph.addInput('dy', shape);
  const saved = graph.addInput('saved', shape);
  const op = log ? 'logSoftmax' : 'softmax';
  const y = graph.addNode(op, [x], { axis: 1 }, 'softmax')[0]!;
  const dx = graph.addNode(log ? 'logSoftmaxGrad' : 'softmaxGrad', [dy, saved], { axis: 1 })[0]!;
  graph.setOutput('y', y);
  graph.setOutput('dx', dx);
  return graph;
}

/** y = dropout(x) and dx = dropoutGrad(dy) with the forward's mask. */
function dropoutGraph(p: number) {
  const graph = new Graph();
  const x = graph.addInput('x', SHAPE);
  const dy = graph.addInput('dy', SHAPE);
  const y = graph.addNode('dropout', [x], { p }, 'drop')[0]!;
  const stream = y.producer!.id;
  const dx = graph.addNode('dropoutGrad', [dy], { p, stream }, 'drop')[0]!;
  graph.setOutput('y', y);
  graph.setOutput('dx', dx);
  return { graph, stream };
}

interface LossCase {
  reduction: Reduction;
  weighted: boolean;
  labelSmoothing: number;
}

/** Builds the loss of scores against targets and its input gradient for an output gradient dy. */
function lossGraph({ reduction, weighted, labelSmoothing }: LossCase, shape = SHAPE) {
  const graph = new Graph();
  const scores = graph.addInput('scores', shape);
  const targets = graph.addInput('targets', [shape[0]!, ...shape.slice(2)], 'i32');
  const dy = graph.addInput('dy', reduction === 'none' ? [shape[0]!, ...shape.slice(2)] : []);
  const weights: Value[] = weighted ? [graph.addInput('weight', [shape[1]!])] : [];
  const attrs = { fromLogits: true, reduction, labelSmoothing, ignoreIndex: -100 };
  const loss = graph.addNode('crossEntropy', [scores, targets, ...weights], attrs, 'loss')[0]!;
  const gradInputs = [dy, scores, targets, loss, ...weights];
  const dx = graph.addNode('crossEntropyGrad', gradInputs, attrs, 'loss')[0]!;
  graph.setOutput('loss', loss);
  graph.setOutput('dx', dx);
  return graph;
}

/** Class indices in [0, 3) with every seventh voxel set to the ignore index. */
function targets(count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => (i % 7 === 3 ? -100 : (i * 5 + 1) % 3));
}

// NOTE: the split cases pick sizes whose windows start aligned to lavapipe's
// minStorageBufferOffsetAlignment of 16 bytes; an adapter with 256 needs larger runs.
describe('split losses', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const log of [false, true]) {
    const name = log ? 'logSoftmax' : 'softmax';
    it(`splits ${name} and its gradient by sample`, async () => {
      const saved = randomValues(ELEMENTS, 3, 0.01, 1);
      const inputs = { x: randomValues(ELEMENTS, 1, -3, 3), dy: randomValues(ELEMENTS, 2), saved };
      const whole = await run(gpu, softmaxGraph(log), inputs, {});
      const split = await run(gpu, softmaxGraph(log), inputs, { maxBindingBytes: SPLIT_BYTES });
      assert.equal(dispatches(whole), 2);
      assert.equal(dispatches(split), 4);
      // Each row computes the same as unsplit, so the bits match.
      assert.deepEqual(bits(split.values[0]!), bits(whole.values[0]!), 'y');
      assert.deepEqual(bits(split.values[1]!), bits(whole.values[1]!), 'dx');
    });
  }

  it('rejects a softmax sample over the limit', async () => {
    await assert.rejects(
      compileGraph(gpu, softmaxGraph(false), { maxBindingBytes: 1024 }),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.startsWith("Op 'softmax' (layer 'softmax')") &&
        error.message.includes("One sample of input 'x' needs 1680 bytes") &&
        error.message.includes('1024 bytes'),
    );
  });

  it('rejects softmax runs that cannot start aligned', async () => {
    // Samples of 15 values start at multiples of 16 bytes only in fours (240 bytes).
    await assert.rejects(
      compileGraph(gpu, softmaxGraph(false, [4, 3, 5]), { maxBindingBytes: 128 }),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.includes('multiples of 16 bytes') &&
        error.message.includes('240 bytes'),
    );
  });

  it('splits dropout with the same mask', async () => {
    const p = 0.3;
    const { graph, stream } = dropoutGraph(p);
    const seeds = new Map([[dropoutSeedKey(stream), dropoutSeed(9, 4, stream)]]);
    const inputs = { x: randomValues(ELEMENTS, 4, 0.5, 2), dy: randomValues(ELEMENTS, 5, 0.5, 2) };
    const whole = await run(gpu, graph, inputs, { training: true, seeds });
    // Runs of 512 elements: 512, 512 and 236.
    const options = { training: true, seeds, maxBindingBytes: 2048 };
    const split = await run(gpu, graph, inputs, options);
    assert.equal(dispatches(whole), 2);
    assert.equal(dispatches(split), 6);
    assert.deepEqual(bits(split.values[0]!), bits(whole.values[0]!), 'y');
    assert.deepEqual(bits(split.values[1]!), bits(whole.values[1]!), 'dx');
    const [y, dx] = split.values as [Float32Array, Float32Array];
    const kept = Array.from(y, (v) => v !== 0);
    const keptCount = kept.filter(Boolean).length;
    // 70% of 1260 elements are kept on average, and 100 is six standard deviations of the count.
    assert.ok(Math.abs(keptCount - 0.7 * ELEMENTS) < 100, `kept ${keptCount}`);
    kept.forEach((keep, i) => {
      assert.equal(dx[i] !== 0, keep, `mask of dx[${i}]`);
    });
    for (const i of [0, 511, 512, 1023, 1024, ELEMENTS - 1]) {
      const expected = kept[i] ? inputs.x[i]! / (1 - p) : 0;
      assert.ok(Math.abs(y[i]! - expected) <= 1e-6 * Math.abs(expected), `y[${i}]`);
    }
  });

  const lossCases: LossCase[] = [
    { reduction: 'mean', weighted: true, labelSmoothing: 0 },
    { reduction: 'mean', weighted: false, labelSmoothing: 0.1 },
    { reduction: 'sum', weighted: true, labelSmoothing: 0 },
    { reduction: 'none', weighted: true, labelSmoothing: 0 },
  ];
  for (const lossCase of lossCases) {
    const { reduction, weighted, labelSmoothing } = lossCase;
    const title = `${reduction}${weighted ? ', weighted' : ''}, smoothing ${labelSmoothing}`;
    it(`splits cross-entropy by sample: ${title}`, async () => {
      const inputs: Record<string, Float32Array | Int32Array> = {
        scores: randomValues(ELEMENTS, 6, -2, 2),
        targets: targets(3 * VOXELS),
        dy: reduction === 'none' ? randomValues(3 * VOXELS, 7) : Float32Array.of(0.75),
      };
      if (weighted) inputs.weight = Float32Array.of(0.5, 2, 1.25);
      const whole = await run(gpu, lossGraph(lossCase), inputs, {});
      const split = await run(gpu, lossGraph(lossCase), inputs, { maxBindingBytes: SPLIT_BYTES });
      // Rows, totals and gradient run as one dispatch each, and rows and gradient as 2 when split.
      const totals = reduction === 'none' ? 0 : 1;
      assert.equal(dispatches(whole), 2 + totals);
      assert.equal(dispatches(split), 4 + totals);
      const [loss, dx] = split.values as [Float32Array, Float32Array];
      const [expectedLoss, expectedDx] = whole.values as [Float32Array, Float32Array];
      if (reduction === 'none') {
        assert.deepEqual(bits(loss), bits(expectedLoss), 'row losses');
        assert.equal(loss[3], 0, 'ignored row');
      } else {
        const error = Math.abs(loss[0]! - expectedLoss[0]!) / Math.abs(expectedLoss[0]!);
        assert.ok(error <= 1e-6, `loss ${loss[0]} against ${expectedLoss[0]}`);
      }
      // Every element of the gradient is computed as unsplit from the same totals.
      assert.deepEqual(bits(dx), bits(expectedDx), 'dx');
      assert.ok(
        dx.some((v) => v !== 0),
        'dx is not all zeros',
      );
    });
  }

  it('rejects a cross-entropy sample over the limit', async () => {
    const lossCase = { reduction: 'mean', weighted: false, labelSmoothing: 0 } as const;
    await assert.rejects(
      compileGraph(gpu, lossGraph(lossCase), { maxBindingBytes: 1024 }),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.startsWith("Op 'crossEntropy' (layer 'loss')") &&
        error.message.includes("One sample of input 'scores' needs 1680 bytes") &&
        error.message.includes('1024 bytes'),
    );
  });

  it('rejects cross-entropy totals over the limit', async () => {
    // Samples of 2 * 64 scores fit 1024 bytes, but the 6 * 64 row losses (1536 bytes) are
    // totalled in one binding.
    const shape = [6, 2, 4, 4, 4];
    const mean = { reduction: 'mean', weighted: false, labelSmoothing: 0 } as const;
    await assert.rejects(
      compileGraph(gpu, lossGraph(mean, shape), { maxBindingBytes: 1024 }),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.includes("'cross-entropy row losses' needs 1536 bytes") &&
        error.message.includes('1024 bytes'),
    );
    // Reduction 'none' totals nothing, so the same loss splits.
    const none = await compileGraph(gpu, lossGraph({ ...mean, reduction: 'none' }, shape), {
      maxBindingBytes: 1024,
    });
    assert.equal(none.program.dispatches.length, 2 * 3);
  });
});
