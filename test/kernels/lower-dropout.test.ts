import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph } from '../../src/graph/ir.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { dropoutSeed } from '../../src/kernels/dropout.js';
import { dropoutSeedKey } from '../../src/kernels/lower-elementwise.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';

/** h = linear(x, w); d = dropout(h, 0.5); loss = sum(d). */
function network() {
  const graph = new Graph();
  const x = graph.addInput('x', [4, 16]);
  const w = graph.addParam('w', [8, 16], { kind: 'uniform', low: -1, high: 1 });
  const h = graph.addNode('linear', [x, w], {}, 'fc')[0]!;
  const d = graph.addNode('dropout', [h], { p: 0.5 }, 'drop')[0]!;
  const loss = graph.addNode('sum', [d], { axes: [0, 1], keepDims: false }, 'loss')[0]!;
  graph.setOutput('h', h);
  graph.setOutput('d', d);
  return { graph, loss, dropoutId: d.producer!.id };
}

const input = Float32Array.from({ length: 64 }, (_, i) => Math.cos(i * 0.7) + 0.1);

describe('dropout lowering', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  it('applies the forward mask to the gradient', async () => {
    const { graph, loss, dropoutId } = network();
    const backward = appendBackward(graph, loss);
    const grad = backward.gradients.get('w')!;
    const [h, d] = [backward.graph.output('h')!, backward.graph.output('d')!];
    const compiled = await compileGraph(gpu, backward.graph, {
      keep: [grad, h, d],
      training: true,
    });
    compiled.write('x', input);
    compiled.writeUniform(dropoutSeedKey(dropoutId), dropoutSeed(5, 1, dropoutId));
    compiled.run();
    const [hValues, dValues, gradValues] = await Promise.all([
      compiled.read(h),
      compiled.read(d),
      compiled.read(grad),
    ]);
    const kept = Array.from(dValues, (value) => value !== 0);
    const keptCount = kept.filter(Boolean).length;
    assert.ok(keptCount > 4 && keptCount < 28, `kept ${keptCount} of 32`);
    kept.forEach((keep, i) => {
      const expected = keep ? 2 * hValues[i]! : 0;
      assert.ok(Math.abs(dValues[i]! - expected) <= 1e-6, `d[${i}]`);
    });
    // d loss / d w[o, i] = sum over rows n of mask[n, o] * 2 * x[n, i].
    for (let o = 0; o < 8; o++) {
      for (let i = 0; i < 16; i++) {
        let expected = 0;
        for (let n = 0; n < 4; n++) if (kept[n * 8 + o]) expected += 2 * input[n * 16 + i]!;
        assert.ok(Math.abs(gradValues[o * 16 + i]! - expected) <= 1e-5, `grad[${o}, ${i}]`);
      }
    }
  });

  it('is the identity in eval mode', async () => {
    const { graph } = network();
    const compiled = await compileGraph(gpu, graph, { training: false });
    compiled.write('x', input);
    compiled.run();
    const h = await compiled.read(graph.output('h')!);
    const d = await compiled.read(graph.output('d')!);
    assert.deepEqual([...d], [...h]);
  });
});
