import assert from 'node:assert/strict';
import { Graph } from '../../src/graph/ir.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { optimizerConfig } from '../../src/optim/optimizers.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { TrainingProgram } from '../../src/training/program.js';
import { smallCnn } from '../helpers/small-cnn.js';
import { runForward } from '../networks/cpu-forward.js';

/** The small CNN's scores without the loss, as an eval graph with one input. */
function scoresGraph(): Graph {
  const { graph } = smallCnn('batch');
  const forward = graph.clone();
  // Drop the loss node and the label input: the eval graph maps images to scores.
  forward.nodes.splice(forward.nodes.findIndex((node) => node.op === 'crossEntropy'));
  forward.inputs.splice(
    forward.inputs.findIndex((input) => input.name === 'label'),
    1,
  );
  forward.outputs.length = 0;
  forward.setOutput('output', forward.nodes.at(-1)!.outputs[0]!);
  return forward;
}

describe('eval programs', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  it('share trained weights and use running statistics', async () => {
    const { graph, loss } = smallCnn('batch');
    const training = await TrainingProgram.compile(gpu, graph, loss, {
      optimizer: optimizerConfig({ name: 'SGD', lr: 0.1 }),
      seed: 2,
    });
    const image = Float32Array.from({ length: 420 }, (_, i) => Math.sin(i * 0.21));
    for (let step = 0; step < 2; step++) await training.step({ image, label: Int32Array.of(1, 2) });

    const evalGraph = scoresGraph();
    const evaluation = await compileGraph(gpu, evalGraph, {
      shareStateWith: training.compiled,
      training: false,
    });
    const probe = Float32Array.from({ length: 420 }, (_, i) => Math.cos(i * 0.13));
    evaluation.write('image', probe);
    evaluation.run();
    const scores = await evaluation.read(evalGraph.output('output')!);

    const state = new Map<string, Float64Array>();
    for (const [name, values] of await training.readState())
      state.set(name, Float64Array.from(values));
    const running = state.get('norm.running_var')!;
    assert.ok(
      running.some((value) => value !== 1),
      'running statistics were updated',
    );
    const expected = runForward(evalGraph, Float64Array.from(probe), state).data;
    scores.forEach((value, i) => {
      assert.ok(Math.abs(value - expected[i]!) <= 1e-4, `score ${i}: ${value} vs ${expected[i]}`);
    });
  });
});
