import assert from 'node:assert/strict';

import { Graph } from '../../src/graph/ir.js';
import { PatchInferer, programForward, SliceInferer } from '../../src/inference/index.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';

/** Compiles relu(input) for a batch shape: the identity on the positive volumes used here. */
async function compileRelu(gpu: Gpu, shape: number[]) {
  const graph = new Graph();
  const input = graph.addInput('input', shape);
  graph.setOutput('output', graph.addNode('relu', [input], {}, 'act')[0]!);
  return compileGraph(gpu, graph);
}

describe('programForward', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  const volume = {
    data: Float32Array.from(
      { length: 2 * 8 * 9 * 10 },
      (_, i) => 1 + Math.cos(i * 0.11) + i * 1e-3,
    ),
    shape: [2, 8, 9, 10],
  };

  it('runs patches through a compiled program', async () => {
    const compiled = await compileRelu(gpu, [3, 2, 4, 5, 6]);
    const inferer = new PatchInferer({ patchSize: [4, 5, 6], overlap: [2, 2, 3], batchSize: 3 });
    const output = await inferer.infer(programForward(compiled), volume);
    assert.deepEqual(output.shape, volume.shape);
    assert.deepEqual(output.data, volume.data);
  });

  it('runs slices through a compiled program', async () => {
    const compiled = await compileRelu(gpu, [4, 2, 8, 9]);
    const output = await new SliceInferer({ axis: 0, batchSize: 4 }).infer(
      programForward(compiled),
      volume,
    );
    assert.deepEqual(output.data, volume.data);
  });

  it('rejects unknown input and output names', async () => {
    const compiled = await compileRelu(gpu, [1, 2, 4, 4, 4]);
    assert.throws(
      () => programForward(compiled, 'image'),
      /no input 'image'; its inputs are input/,
    );
    assert.throws(
      () => programForward(compiled, 'input', 'logits'),
      /no output 'logits'; its outputs are output/,
    );
  });

  it('rejects a batch of the wrong shape', async () => {
    const compiled = await compileRelu(gpu, [1, 2, 4, 4, 4]);
    const inferer = new PatchInferer({ patchSize: [4, 4, 4], batchSize: 2 });
    await assert.rejects(
      inferer.infer(programForward(compiled), volume),
      /Input 'input' needs 128 values .* got 256/,
    );
  });
});
