import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import type { Value } from '../../src/graph/ir.js';
import { CONV, IMAGE_SHAPE, LOSS, PADDING, smallCnn } from '../helpers/small-cnn.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { convReference, convReferenceGrad } from '../../src/kernels/reference/conv.js';
import { crossEntropyReference } from '../../src/kernels/reference/cross-entropy.js';
import { unaryBackward, unaryForward } from '../../src/kernels/reference/elementwise.js';
import { matmulReference, matmulReferenceGrad } from '../../src/kernels/reference/matmul.js';
import { maxPoolBackwardReference, maxPoolReference } from '../../src/kernels/reference/pool.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';

/** The same network on the float64 references, returning the loss and two gradients. */
function reference(image: Float32Array, label: Int32Array, state: Map<string, Float32Array>) {
  const geometry = {
    batch: 2,
    inChannels: 1,
    outChannels: 4,
    inputSize: IMAGE_SHAPE.slice(2),
    kernelSize: [3, 3, 3],
    stride: CONV.stride,
    padding: PADDING,
  };
  const conv = convReference(geometry, image, state.get('conv.weight')!, state.get('conv.bias')!);
  const relu = unaryForward({ op: 'relu' }, conv);
  const poolGeometry = { inputShape: [2, 4, 6, 7, 5], kernelSize: [2, 2, 2] };
  const pooled = maxPoolReference(poolGeometry, relu).y;
  const dense = { batch: 1, m: 2, n: 3, k: 72, transposeB: true };
  const scores = matmulReference(dense, pooled, state.get('fc.weight')!, state.get('fc.bias')!);
  const loss = crossEntropyReference(
    { inputShape: [2, 3], ...LOSS },
    scores,
    label,
    [1, 1, 1],
    [1],
  );
  const fc = matmulReferenceGrad(dense, pooled, state.get('fc.weight')!, loss.grad);
  const dRelu = maxPoolBackwardReference(poolGeometry, relu, fc.da);
  const dConv = unaryBackward({ op: 'relu' }, conv, dRelu);
  const convGrad = convReferenceGrad(geometry, image, state.get('conv.weight')!, dConv);
  return {
    loss: loss.loss[0]!,
    scores,
    fcWeight: fc.db,
    convWeight: convGrad.dweight,
    convBias: convGrad.dbias,
  };
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what: string,
) {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!);
    assert.ok(error <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (error ${error})`);
  }
}

describe('compileGraph', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  it('trains a small CNN step like the references', async () => {
    const { graph, loss } = smallCnn();
    const backward = appendBackward(graph, loss);
    const gradients = ['conv.weight', 'conv.bias', 'fc.weight'].map((name) =>
      backward.gradients.get(name)!,
    );
    const keep: Value[] = [backward.loss, ...gradients, backward.graph.output('scores')!];
    const compiled = await compileGraph(gpu, backward.graph, { keep, seed: 3 });

    const image = Float32Array.from({ length: 2 * 6 * 7 * 5 }, (_, i) => Math.sin(i * 0.37));
    const label = Int32Array.of(2, 0);
    compiled.write('image', image);
    compiled.write('label', label);
    compiled.run();

    const state = new Map<string, Float32Array>();
    for (const param of graph.params)
      state.set(
        param.name!,
        await compiled.read(compiled.graph.params.find((p) => p.name === param.name)!),
      );
    const expected = reference(image, label, state);

    // f32 kernels against float64 references: errors of a few ulps of the values' scale.
    assertClose(
      await compiled.read(backward.graph.output('scores')!),
      expected.scores,
      1e-5,
      'scores',
    );
    assertClose(await compiled.read(backward.loss), [expected.loss], 1e-5, 'loss');
    assertClose(await compiled.read(gradients[0]!), expected.convWeight, 1e-5, 'conv.weight grad');
    assertClose(await compiled.read(gradients[1]!), expected.convBias, 1e-5, 'conv.bias grad');
    assertClose(await compiled.read(gradients[2]!), expected.fcWeight, 1e-5, 'fc.weight grad');
  });

  it('shares buffers between dead activations', async () => {
    const { graph, loss } = smallCnn();
    const backward = appendBackward(graph, loss);
    const compiled = await compileGraph(gpu, backward.graph, { keep: [backward.loss] });
    const tensorBytes = backward.graph.nodes
      .flatMap((node) => node.outputs)
      .reduce((sum, output) => sum + 4 * output.shape.reduce((a, b) => a * b, 1), 0);
    assert.ok(compiled.memoryBytes > 0);
    assert.ok(compiled.memoryBytes < tensorBytes, `${compiled.memoryBytes} >= ${tensorBytes}`);
  });
});
