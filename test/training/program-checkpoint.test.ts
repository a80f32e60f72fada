// Gradient checkpointing on the GPU: the same bits as keeping every activation, in less memory.

import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import { checkpointGraph, type CheckpointOption } from '../../src/graph/checkpoint.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { optimizerConfig } from '../../src/optim/optimizers.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { TrainingProgram } from '../../src/training/program.js';
import { deepCnn, deepCnnBatch, type DeepCnnOptions } from '../helpers/deep-cnn.js';

const NETWORK: DeepCnnOptions = { depth: 6, size: 10, channels: 4 };

function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

describe('TrainingProgram with gradient checkpointing', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  /** Three Adam steps; returns the losses, the state after them and the planned memory. */
  async function train(network: DeepCnnOptions, checkpoint: CheckpointOption, settings = {}) {
    const { graph, loss } = deepCnn(network);
    const program = await TrainingProgram.compile(gpu, graph, loss, {
      optimizer: optimizerConfig({ name: 'Adam', lr: 0.01 }),
      seed: 5,
      checkpoint,
      ...settings,
    });
    // Three optimizer steps, each over accumulationSteps micro-batches.
    const batches = Array.from({ length: 3 * program.accumulationSteps }, (_, i) => i + 1);
    const losses = await Promise.all(
      batches.map((batch) => program.step(deepCnnBatch(network.size, batch))),
    );
    assert.equal(program.steps, 3);
    return {
      losses: Float32Array.from(losses),
      state: await program.readState(),
      memoryBytes: program.compiled.memoryBytes,
      result: program.checkpoint,
    };
  }

  const cases: {
    title: string;
    network: DeepCnnOptions;
    checkpoint: CheckpointOption;
    settings?: object;
  }[] = [
    { title: 'three segments', network: NETWORK, checkpoint: { segments: 3 } },
    {
      title: 'accumulation and clipping',
      network: NETWORK,
      checkpoint: { segments: 3 },
      settings: { accumulationSteps: 2, clip: { maxNorm: 0.5 } },
    },
    { title: 'auto', network: NETWORK, checkpoint: 'auto' },
    { title: 'batch norm', network: { ...NETWORK, batchNorm: true }, checkpoint: { segments: 3 } },
    { title: 'dropout', network: { ...NETWORK, dropout: 0.3 }, checkpoint: { segments: 2 } },
  ];
  for (const { title, network, checkpoint, settings } of cases) {
    it(`keeps losses and weights: ${title}`, async () => {
      const kept = await train(network, 'none', settings);
      const recomputed = await train(network, checkpoint, settings);
      assert.ok(recomputed.result.recomputedNodes > 0);
      assert.deepEqual(bits(recomputed.losses), bits(kept.losses));
      // Weights, and batch norm's running statistics, which must be updated once per step.
      assert.deepEqual([...recomputed.state.keys()], [...kept.state.keys()]);
      for (const [name, values] of kept.state) {
        assert.deepEqual(bits(recomputed.state.get(name)!), bits(values), name);
      }
      assert.ok(
        recomputed.memoryBytes < kept.memoryBytes,
        `${recomputed.memoryBytes} bytes with checkpointing, ${kept.memoryBytes} without`,
      );
    });
  }

  it('keeps the gradients of one step', async () => {
    const gradients = [];
    for (const checkpoint of ['none', { segments: 3 }] as const) {
      const { graph: forward, loss } = deepCnn({ ...NETWORK, batchNorm: true });
      const { graph, gradients: byName, loss: lossValue } = appendBackward(forward, loss);
      const keep = [lossValue, ...byName.values()];
      checkpointGraph(graph, forward.nodes.length, keep, checkpoint);
      const compiled = await compileGraph(gpu, graph, { training: true, keep, seed: 3 });
      const batch = deepCnnBatch(NETWORK.size, 9);
      compiled.write('image', batch.image);
      compiled.write('label', batch.label);
      compiled.run();
      gradients.push(await Promise.all(keep.map((value) => compiled.read(value))));
    }
    const [kept, recomputed] = gradients;
    kept!.forEach((values, index) => {
      assert.ok(values.some((value) => value !== 0));
      assert.deepEqual(bits(recomputed![index]!), bits(values), `value ${index}`);
    });
  });

  it('rejects an invalid segment count', async () => {
    const { graph, loss } = deepCnn(NETWORK);
    await assert.rejects(
      TrainingProgram.compile(gpu, graph, loss, {
        optimizer: optimizerConfig({ name: 'SGD', lr: 0.1 }),
        checkpoint: { segments: -2 },
      }),
      /checkpoint.segments must be an integer >= 1, got -2/,
    );
  });
});
