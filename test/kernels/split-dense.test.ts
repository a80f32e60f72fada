// Linear layers and 2D matrix products over the binding limit (split-dense.ts): split programs
// give the unsplit values, the same bits where each output's arithmetic is unchanged.

import assert from 'node:assert/strict';
import { GpuLimitError } from '../../src/errors.js';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph, type Value } from '../../src/graph/ir.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { LOSS } from '../helpers/small-cnn.js';
import { maxMixedError, randomValues } from './helpers.js';

// x [12, 20] is 960 bytes and one row 80; the weight [3, 20] is 240 bytes and bound whole.
// Outputs of 3 values a row start aligned to 16 bytes every 4 rows, so runs are of 4 rows.
const ROWS = 12;
const IN_FEATURES = 20;
const OUT_FEATURES = 3;
const SPLIT_BYTES = 512;

const bits = (values: Float32Array) => [...new Uint32Array(values.buffer)];

/** Builds a linear layer with bias and relu, then cross-entropy, and its gradients. */
function linearStep() {
  const graph = new Graph();
  const x = graph.addInput('x', [ROWS, IN_FEATURES]);
  const labels = graph.addInput('labels', [ROWS], 'i32');
  const uniform = { kind: 'uniform', low: -0.5, high: 0.5 } as const;
  const weight = graph.addParam('fc.weight', [OUT_FEATURES, IN_FEATURES], uniform);
  const bias = graph.addParam('fc.bias', [OUT_FEATURES], uniform);
  const hidden = graph.addNode('linear', [x, weight, bias], {}, 'fc')[0]!;
  const scores = graph.addNode('relu', [hidden], {}, 'act')[0]!;
  const loss = graph.addNode('crossEntropy', [scores, labels], LOSS, 'loss')[0]!;
  const backward = appendBackward(graph, loss, { inputs: ['x'] });
  const named: [string, Value][] = [
    ['loss', backward.loss],
    ...backward.gradients,
    ...[...backward.inputGradients].map(([name, v]): [string, Value] => [`${name} gradient`, v]),
  ];
  return { graph: backward.graph, named };
}

describe('split linear layers and matrix products', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  async function runStep(maxBindingBytes?: number) {
    const { graph, named } = linearStep();
    const keep = named.map(([, v]) => v);
    const compiled = await compileGraph(gpu, graph, {
      training: true,
      keep,
      seed: 5,
      maxBindingBytes,
    });
    compiled.write('x', randomValues(ROWS * IN_FEATURES, 3));
    compiled.write(
      'labels',
      Int32Array.from({ length: ROWS }, (_, i) => i % OUT_FEATURES),
    );
    compiled.run();
    const values = await Promise.all(keep.map((v) => compiled.read(v)));
    const names = compiled.program.dispatches.map((d) => d.name);
    return { values, names, labels: named.map(([name]) => name) };
  }

  it('trains a split linear layer', async () => {
    const whole = await runStep();
    const split = await runStep(SPLIT_BYTES);
    assert.ok(split.names.length > whole.names.length, split.names.join(', '));
    assert.deepEqual(split.labels, ['loss', 'fc.weight', 'fc.bias', 'x gradient']);
    split.labels.forEach((name, index) => {
      const [actual, expected] = [split.values[index]!, whole.values[index]!];
      // The weight gradient, the bias gradient and the mean loss add their rows in runs, so
      // only their order of summation differs.
      if (name !== 'x gradient') {
        assert.ok(
          maxMixedError(actual, expected) <= 1e-6,
          `${name}: ${maxMixedError(actual, expected)}`,
        );
      } else {
        assert.deepEqual(bits(actual), bits(expected), name);
      }
    });
  });

  it('repeats the bits of a split run', async () => {
    const first = await runStep(SPLIT_BYTES);
    const second = await runStep(SPLIT_BYTES);
    first.values.forEach((values, index) => {
      assert.deepEqual(bits(values), bits(second.values[index]!), `value ${index}`);
    });
  });

  /** Returns op(A) op(B) in float64 for A and B stored as the matmul node reads them. */
  function reference(a: Float32Array, b: Float32Array, sizes: number[], transpose: boolean[]) {
    const [m, n, k] = sizes as [number, number, number];
    const [transposeA, transposeB] = transpose;
    const c = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        for (let p = 0; p < k; p++) {
          const av = a[transposeA ? p * m + i : i * k + p]!;
          const bv = b[transposeB ? j * k + p : p * n + j]!;
          c[i * n + j]! += av * bv;
        }
      }
    }
    return c;
  }

  for (const [transposeA, transposeB] of [
    [false, false],
    [false, true],
    [true, false],
  ]) {
    it(`splits matmul: transposeA ${transposeA}, transposeB ${transposeB}`, async () => {
      // C [m, n] = op(A) op(B) with m = 16, n = 5, k = 12.
      const [m, n, k] = [16, 5, 12];
      const graph = new Graph();
      const a = graph.addInput('a', transposeA ? [k, m] : [m, k]);
      const b = graph.addInput('b', transposeB ? [n, k] : [k, n]);
      graph.setOutput('c', graph.addNode('matmul', [a, b], { transposeA, transposeB })[0]!);
      const [aData, bData] = [randomValues(m * k, 7), randomValues(k * n, 8)];

      const results = [];
      for (const maxBindingBytes of [undefined, 384]) {
        const compiled = await compileGraph(gpu, graph, { maxBindingBytes });
        compiled.write('a', aData);
        compiled.write('b', bData);
        compiled.run();
        results.push({
          c: await compiled.read(graph.outputs[0]!.value),
          dispatches: compiled.program.dispatches.length,
        });
      }

      const [whole, split] = results;
      const expected = reference(aData, bData, [m, n, k], [transposeA!, transposeB!]);
      assert.ok(split!.dispatches > 1);
      assert.ok(maxMixedError(whole!.c, expected) <= 1e-5, 'unsplit');
      assert.ok(maxMixedError(split!.c, expected) <= 1e-5, 'split');
      if (!transposeA) assert.deepEqual(bits(split!.c), bits(whole!.c));
    });
  }

  it('rejects a row over the limit', async () => {
    const graph = new Graph();
    const x = graph.addInput('x', [2, 200]);
    const weight = graph.addParam('fc.weight', [2, 200], { kind: 'constant', value: 0.1 });
    graph.setOutput('y', graph.addNode('linear', [x, weight], {}, 'fc')[0]!);
    await assert.rejects(
      compileGraph(gpu, graph, { maxBindingBytes: 512 }),
      (error: Error) =>
        error instanceof GpuLimitError && /linear (input|weight)/.test(error.message),
    );
  });
});
