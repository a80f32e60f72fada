import assert from 'node:assert/strict';
import { GpuLimitError } from '../../src/errors.js';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph, type Value } from '../../src/graph/ir.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, randomValues } from './helpers.js';

// Odd sizes whose samples of 3 * 140 values still start aligned to lavapipe's 16 bytes.
const SHAPE = [3, 3, 5, 4, 7];
const ELEMENTS = 3 * 3 * 140;
// Runs of 2 samples (3360 bytes) and a rest of 1; a full reduction takes runs of 1024 values.
const SPLIT_BYTES = 4096;
// Reordered sums: within 1e-6 relative to the largest value (see sumError).
const SUM_TOLERANCE = 1e-6;

type ReduceOp = 'sum' | 'mean' | 'max';
type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

const bits = (values: Float32Array) => [...new Uint32Array(values.buffer)];

/**
 * Largest |actual - expected| over the largest |expected|: the rounding of a reordered sum
 * scales with its terms, not with a result that cancels to near 0.
 */
function sumError(actual: Float32Array, expected: Float32Array): number {
  const scale = Math.max(...expected.map(Math.abs));
  return Math.max(...actual.map((value, i) => Math.abs(value - expected[i]!))) / scale;
}

interface Run {
  values: Float32Array[];
  dispatches: number;
}

/**
 * Builds a graph with `build`, differentiates the graph output 'loss' with respect to the
 * named inputs, compiles it, runs it once and reads the loss, then the input gradients.
 */
async function run(
  gpu: Gpu,
  build: (graph: Graph) => Value,
  inputs: Record<string, Float32Array>,
  maxBindingBytes?: number,
): Promise<Run> {
  const graph = new Graph();
  const loss = build(graph);
  graph.setOutput('loss', loss);
  const names = Object.keys(inputs);
  const backward = appendBackward(graph, loss, { inputs: names });
  const keep = [backward.loss, ...names.map((name) => backward.inputGradients.get(name)!)];
  const compiled = await compileGraph(gpu, backward.graph, { keep, maxBindingBytes });
  for (const [name, data] of Object.entries(inputs)) compiled.write(name, data);
  compiled.run();
  const values = await Promise.all(keep.map((value) => compiled.read(value)));
  return { values, dispatches: compiled.program.dispatches.length };
}

/** Runs `build` whole and split, and checks that the split program has more dispatches. */
async function wholeAndSplit(
  gpu: Gpu,
  build: (graph: Graph) => Value,
  inputs: Record<string, Float32Array>,
) {
  const whole = await run(gpu, build, inputs);
  const split = await run(gpu, build, inputs, SPLIT_BYTES);
  assert.ok(split.dispatches > whole.dispatches, `${split.dispatches} dispatches`);
  return { whole, split };
}

const node = (graph: Graph, op: string, inputs: Value[], attrs: object = {}) =>
  graph.addNode(op as 'add', inputs, attrs as never, op)[0]!;

/** Sums every element of `y`: the loss of a test graph. */
function total(graph: Graph, y: Value): Value {
  return node(graph, 'sum', [y], { axes: y.shape.map((_, axis) => axis), keepDims: false });
}

/** Reduces `values` of SHAPE with `op` over `axes` in float64, in the kept axes' order. */
function reference(values: Float32Array, op: ReduceOp, axes: number[]): number[] {
  const strides = SHAPE.map((_, axis) => SHAPE.slice(axis + 1).reduce((a, b) => a * b, 1));
  const out = new Map<number, number[]>();
  values.forEach((v, index) => {
    const kept = SHAPE.reduce(
      (key, size, axis) =>
        axes.includes(axis) ? key : key * size + (Math.floor(index / strides[axis]!) % size),
      0,
    );
    out.set(kept, [...(out.get(kept) ?? []), v]);
  });
  return [...out.keys()]
    .sort((a, b) => a - b)
    .map((key) => {
      const list = out.get(key)!;
      const sum = list.reduce((a, b) => a + b, 0);
      if (op === 'max') return Math.max(...list);
      return op === 'mean' ? sum / list.length : sum;
    });
}

interface ReduceCase {
  axes: number[];
  /** True when the runs reduce their own outputs, so the split gives unsplit's bits. */
  ownOutputs: boolean;
}

const REDUCE_CASES: ReduceCase[] = [
  { axes: [0, 1, 2, 3, 4], ownOutputs: false },
  { axes: [1, 4], ownOutputs: true },
  { axes: [0, 2, 4], ownOutputs: false },
  // One output per sample, written into y bound whole: its windows would not start aligned.
  { axes: [1, 2, 3, 4], ownOutputs: true },
];

describe('split reductions and broadcasting ops', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  const x = randomValues(ELEMENTS, 1);
  for (const op of ['sum', 'mean', 'max'] as ReduceOp[]) {
    for (const { axes, ownOutputs } of REDUCE_CASES) {
      it(`splits ${op} over axes [${axes}] and its gradient`, async () => {
        const expected = reference(x, op, axes);
        const weights = randomValues(expected.length, 2, 0.5, 1.5);
        const build = (graph: Graph) => {
          const input = graph.addInput('x', SHAPE);
          // keepDims, so that a full reduction leaves [1, 1, 1, 1, 1], not a scalar.
          const y = node(graph, op, [input], { axes, keepDims: true });
          const weight = graph.addInput('w', y.shape);
          return total(graph, node(graph, 'mul', [y, weight]));
        };
        const { whole, split } = await wholeAndSplit(gpu, build, { x, w: weights });
        const loss = expected.reduce((sum, value, k) => sum + value * weights[k]!, 0);
        assert.ok(maxMixedError(whole.values[0]!, [loss]) <= 1e-5, 'whole loss');
        const error = sumError(split.values[0]!, whole.values[0]!);
        assert.ok(error <= SUM_TOLERANCE, `loss error ${error}`);
        if (ownOutputs || op === 'max') {
          assert.deepEqual(bits(split.values[0]!), bits(whole.values[0]!), 'loss bits');
        }
        // dx reads only w and, for max, x and the maximum: the same bits. dw is the reduction.
        assert.deepEqual(bits(split.values[1]!), bits(whole.values[1]!), 'dx');
        const dw = sumError(split.values[2]!, whole.values[2]!);
        assert.ok(dw <= SUM_TOLERANCE, `dw error ${dw}`);
        if (ownOutputs || op === 'max') {
          assert.deepEqual(bits(split.values[2]!), bits(whole.values[2]!), 'dw bits');
        }
      });
    }
  }

  // Forward ops on their own, with their dispatches whole and split: the runs of samples (2
  // and 1) or of elements (1024 and 236), then a combining dispatch where runs reduce axis 0.
  // The larger mean has runs of 32768 elements, reduced in parts of 16384 and a rest of 7634
  // in the last run: 4 runs, 5 partial dispatches and a combining one.
  const LARGE = [3, 2, 19, 29, 37];
  const FORWARD = [
    { name: 'a mean over every axis', op: 'mean', axes: [0, 1, 2, 3, 4], split: 3 },
    { name: 'a max over axes [0, 2, 4]', op: 'max', axes: [0, 2, 4], split: 3 },
    { name: 'a sum over axes [1, 4]', op: 'sum', axes: [1, 4], split: 2 },
    { name: 'a div by channel', op: 'div', axes: [], split: 2, operand: [1, 3, 1, 1, 1] },
    // Each run copies its 1 or 2 values of the per-sample operand into a scratch first.
    { name: 'a mul by sample', op: 'mul', axes: [], split: 4, operand: [3, 1, 1, 1, 1] },
    {
      name: 'a mean of 122322 elements in parts',
      op: 'mean',
      axes: [0, 1, 2, 3, 4],
      split: 6,
      shape: LARGE,
      bytes: 131072,
    },
  ];
  for (const { name, op, axes, split, operand, shape = SHAPE, bytes = SPLIT_BYTES } of FORWARD) {
    it(`runs ${name} as ${split} dispatches over the limit`, async () => {
      const data = randomValues(
        shape.reduce((a, b) => a * b, 1),
        8,
      );
      const compile = async (maxBindingBytes?: number) => {
        const graph = new Graph();
        const input = graph.addInput('x', shape);
        const y = operand
          ? node(graph, op, [input, graph.addInput('b', operand)])
          : node(graph, op, [input], { axes, keepDims: false });
        graph.setOutput('y', y);
        const compiled = await compileGraph(gpu, graph, { maxBindingBytes });
        compiled.write('x', data);
        if (operand) compiled.write('b', Float32Array.of(0.5, 2, 3));
        compiled.run();
        return { compiled, y: await compiled.read(y) };
      };
      const whole = await compile();
      const parts = await compile(bytes);
      assert.equal(whole.compiled.program.dispatches.length, 1);
      assert.equal(parts.compiled.program.dispatches.length, split);
      const error = sumError(parts.y, whole.y);
      assert.ok(error <= SUM_TOLERANCE, `error ${error}`);
      if (shape === LARGE) {
        const mean = data.reduce((sum, v) => sum + v, 0) / data.length;
        assert.ok(Math.abs(parts.y[0]! - mean) <= 1e-6, `mean ${parts.y[0]} vs ${mean}`);
      }
    });
  }

  // The broadcast operand's shape, and whether it comes first.
  const OPERANDS = [
    { name: 'a per-channel [1, C, 1, 1, 1] operand', shape: [1, 3, 1, 1, 1], first: false },
    { name: 'a per-channel [C, 1, 1, 1] operand first', shape: [3, 1, 1, 1], first: true },
    { name: 'a [1, C, D, H, W] operand', shape: [1, ...SHAPE.slice(1)], first: false },
  ];
  for (const op of ['add', 'sub', 'mul', 'div'] as BinaryOp[]) {
    for (const { name, shape, first } of OPERANDS) {
      it(`splits ${op} with ${name} and its gradients`, async () => {
        const count = shape.reduce((a, b) => a * b, 1);
        const inputs = {
          x: randomValues(ELEMENTS, 3, 0.5, 1.5),
          b: randomValues(count, 4, 0.5, 1.5),
          w: randomValues(ELEMENTS, 5),
        };
        const build = (graph: Graph) => {
          const big = graph.addInput('x', SHAPE);
          const small = graph.addInput('b', shape);
          const y = node(graph, op, first ? [small, big] : [big, small]);
          return total(graph, node(graph, 'mul', [y, graph.addInput('w', SHAPE)]));
        };
        const { whole, split } = await wholeAndSplit(gpu, build, inputs);
        const error = sumError(split.values[0]!, whole.values[0]!);
        assert.ok(error <= SUM_TOLERANCE, `loss error ${error}`);
        // dx is element-wise: the same bits; db sums over the broadcast axes in runs.
        assert.deepEqual(bits(split.values[1]!), bits(whole.values[1]!), 'dx');
        const db = sumError(split.values[2]!, whole.values[2]!);
        assert.ok(db <= SUM_TOLERANCE, `db error ${db}`);
      });
    }
  }

  /** mean((prediction - target)^2) over every axis. */
  const mse = (graph: Graph) => {
    const diff = node(graph, 'sub', [graph.addInput('x', SHAPE), graph.addInput('t', SHAPE)]);
    const squared = node(graph, 'mul', [diff, diff]);
    return node(graph, 'mean', [squared], { axes: [0, 1, 2, 3, 4], keepDims: false });
  };
  const mseInputs = { x: randomValues(ELEMENTS, 6), t: randomValues(ELEMENTS, 7) };

  it('splits an MSE loss and its gradient', async () => {
    const { whole, split } = await wholeAndSplit(gpu, mse, mseInputs);
    let squares = 0;
    mseInputs.x.forEach((value, i) => (squares += (value - mseInputs.t[i]!) ** 2));
    assert.ok(maxMixedError(whole.values[0]!, [squares / ELEMENTS]) <= 1e-6, 'whole loss');
    const error = sumError(split.values[0]!, whole.values[0]!);
    assert.ok(error <= SUM_TOLERANCE, `loss error ${error}`);
    for (const k of [1, 2]) {
      assert.deepEqual(bits(split.values[k]!), bits(whole.values[k]!), `gradient ${k}`);
    }
  });

  it('gives the same bits on every run of a split loss', async () => {
    const first = await run(gpu, mse, mseInputs, SPLIT_BYTES);
    const second = await run(gpu, mse, mseInputs, SPLIT_BYTES);
    first.values.forEach((values, k) => {
      assert.deepEqual(bits(second.values[k]!), bits(values), `value ${k}`);
    });
  });

  const TOO_BIG = [
    {
      name: 'a mean whose sample exceeds the limit',
      build: (graph: Graph) =>
        node(graph, 'mean', [graph.addInput('x', SHAPE)], { axes: [0, 2, 3, 4], keepDims: false }),
    },
    {
      name: 'a broadcasting add whose sample exceeds the limit',
      build: (graph: Graph) =>
        node(graph, 'add', [graph.addInput('x', SHAPE), graph.addInput('b', [1, 3, 5, 4, 7])]),
    },
  ];
  for (const { name, build } of TOO_BIG) {
    it(`rejects ${name}, naming the tensor`, async () => {
      const graph = new Graph();
      graph.setOutput('y', build(graph));
      await assert.rejects(
        compileGraph(gpu, graph, { maxBindingBytes: 1024 }),
        (error: Error) =>
          error instanceof GpuLimitError &&
          /One sample of [a-z ]+'x' needs 1680 bytes/.test(error.message),
      );
    });
  }
});
