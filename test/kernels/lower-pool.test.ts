import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph } from '../../src/graph/ir.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';

describe('adaptive max pooling lowering', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  it('routes each gradient to its window maximum', async () => {
    // A 5x5 plane pooled to 2x2: PyTorch's windows are rows/columns [0, 3) and [2, 5).
    const graph = new Graph();
    const x = graph.addParam('x', [1, 1, 5, 5], { kind: 'constant', value: 0 });
    const y = graph.addNode('adaptiveMaxPool', [x], { outputSize: [2, 2] })[0]!;
    const r = graph.addConstant(Float32Array.of(1, 2, 3, 4), [1, 1, 2, 2]);
    const product = graph.addNode('mul', [y, r], {})[0]!;
    const loss = graph.addNode('sum', [product], { axes: [0, 1, 2, 3], keepDims: false })[0]!;
    graph.setOutput('y', y);
    const backward = appendBackward(graph, loss);
    const grad = backward.gradients.get('x')!;
    const pooledValue = backward.graph.output('y')!;
    const compiled = await compileGraph(gpu, backward.graph, { keep: [grad, pooledValue] });
    // Distinct values with the maximum of each window at a known place.
    const values = Float32Array.from({ length: 25 }, (_, i) => (i * 7) % 25);
    compiled.writeState('x', values);
    compiled.run();
    const pooled = await compiled.read(pooledValue);
    const gradient = await compiled.read(grad);
    const windows = [
      [0, 3],
      [2, 5],
    ];
    const expectedGradient = new Float32Array(25);
    windows.forEach(([r0, r1], wy) =>
      windows.forEach(([c0, c1], wx) => {
        let best = -1;
        for (let r = r0!; r < r1!; r++) {
          for (let c = c0!; c < c1!; c++)
            if (best < 0 || values[r * 5 + c]! > values[best]!) best = r * 5 + c;
        }
        assert.equal(pooled[wy * 2 + wx], values[best], `window ${wy}, ${wx}: ${[...pooled]}`);
        expectedGradient[best]! += wy * 2 + wx + 1;
      }),
    );
    assert.deepEqual([...gradient], [...expectedGradient]);
  });
});
