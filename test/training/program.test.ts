import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { optimizerConfig } from '../../src/optim/optimizers.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { TrainingProgram } from '../../src/training/program.js';
import { smallCnn } from '../helpers/small-cnn.js';

/** Three steps of each optimizer in PyTorch (scripts/fixtures/torch_cnn_steps.py). */
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/torch/cnn-steps.json', import.meta.url), 'utf8'),
);

const plain = fixture.variants[0];

function initialState(variant = plain): Map<string, Float32Array> {
  const entries = Object.entries(variant.initial as Record<string, number[]>);
  return new Map(entries.map(([name, values]) => [name, Float32Array.from(values)]));
}

function inputs(second = false) {
  return second
    ? { image: Float32Array.from(fixture.input2), label: Int32Array.from(fixture.labels2) }
    : { image: Float32Array.from(fixture.input), label: Int32Array.from(fixture.labels) };
}

/** The fixture's runs with clipping or accumulation alternate the two batches. */
function batchOf(run: { clip?: object; accumulationSteps?: number }, step: number) {
  const alternate = run.clip !== undefined || run.accumulationSteps !== undefined;
  return inputs(alternate && step % 2 === 1);
}

describe('TrainingProgram', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const variant of fixture.variants) {
    for (const run of variant.runs) {
      const settings = { clip: run.clip, accumulationSteps: run.accumulationSteps };
      const title = JSON.stringify({ norm: variant.norm, ...run.optimizer, ...settings });
      it(`matches PyTorch: ${title}`, async () => {
        const { graph, loss } = smallCnn(variant.norm);
        const program = await TrainingProgram.compile(gpu, graph, loss, {
          optimizer: optimizerConfig(run.optimizer),
          ...settings,
        });
        program.writeState(initialState(variant));
        // Submit every step before reading any loss back.
        const steps = run.losses.map((_: number, step: number) => step);
        const losses = await Promise.all(
          steps.map((step: number) => program.step(batchOf(run, step))),
        );
        assert.equal(program.steps, 3);
        losses.forEach((value, step) => {
          const expected = run.losses[step];
          assert.ok(
            Math.abs(value - expected) <= 1e-5,
            `step ${step} loss ${value} vs ${expected}`,
          );
        });
        const state = await program.readState();
        for (const [name, values] of Object.entries(run.final as Record<string, number[]>)) {
          const actual = state.get(name)!;
          values.forEach((expected, i) => {
            // f32 on both sides; Adam divides by sqrt(v), which amplifies rounding where v ~ 0.
            assert.ok(
              Math.abs(actual[i]! - expected) <= 2e-5,
              `${name}[${i}] ${actual[i]} vs ${expected}`,
            );
          });
        }
      });
    }
  }

  it('gives identical weights for one seed', async () => {
    const results = [];
    for (let run = 0; run < 2; run++) {
      const { graph, loss } = smallCnn();
      const program = await TrainingProgram.compile(gpu, graph, loss, {
        optimizer: optimizerConfig({ name: 'Adam', lr: 0.01 }),
        seed: 11,
      });
      for (let step = 0; step < 3; step++) await program.step(inputs());
      results.push(await program.readState());
    }
    for (const [name, values] of results[0]!) {
      assert.deepEqual(
        new Uint32Array(values.buffer),
        new Uint32Array(results[1]!.get(name)!.buffer),
        name,
      );
    }
  });

  it('resumes from saved state with identical bits', async () => {
    const options = {
      optimizer: optimizerConfig({ name: 'Adam', lr: 0.01 }),
      accumulationSteps: 2,
      seed: 7,
    };
    const compile = async () => {
      const { graph, loss } = smallCnn('batch');
      return TrainingProgram.compile(gpu, graph, loss, options);
    };
    const uninterrupted = await compile();
    for (let step = 0; step < 7; step++) await uninterrupted.step(batchOf({ clip: {} }, step));

    const first = await compile();
    // Stop after an odd number of micro-batches, with gradients waiting in the accumulators.
    for (let step = 0; step < 3; step++) await first.step(batchOf({ clip: {} }, step));
    const weights = await first.readState();
    const optimizerState = await first.readOptimizerState();
    const resumed = await compile();
    resumed.writeState(weights);
    resumed.writeOptimizerState(optimizerState);
    for (let step = 3; step < 7; step++) await resumed.step(batchOf({ clip: {} }, step));

    assert.equal(resumed.steps, uninterrupted.steps);
    const expected = await uninterrupted.readState();
    for (const [name, values] of await resumed.readState()) {
      const bits = new Uint32Array(values.buffer);
      assert.deepEqual(bits, new Uint32Array(expected.get(name)!.buffer), name);
    }
  });

  it('leaves frozen parameters unchanged', async () => {
    const { graph, loss } = smallCnn();
    const program = await TrainingProgram.compile(gpu, graph, loss, {
      optimizer: optimizerConfig({ name: 'SGD', lr: 0.1, freeze: ['conv'] }),
    });
    assert.deepEqual(program.trainedParameters, ['fc.weight', 'fc.bias']);
    program.writeState(initialState());
    await program.step(inputs());
    const state = await program.readState();
    assert.deepEqual([...state.get('conv.weight')!], [...initialState().get('conv.weight')!]);
    assert.notDeepEqual([...state.get('fc.weight')!], [...initialState().get('fc.weight')!]);
  });

  it('names a missing input', async () => {
    const { graph, loss } = smallCnn();
    const program = await TrainingProgram.compile(gpu, graph, loss, {
      optimizer: optimizerConfig({ name: 'SGD', lr: 0.1 }),
    });
    assert.throws(() => program.step({ image: inputs().image }), /needs the input 'label'/);
  });
});
