import assert from 'node:assert/strict';
import { MSELossConfig, L1LossConfig, CrossEntropyLossConfig } from '../../src/losses/index.js';
import type { Tensor } from '../../src/losses/tensor.js';
import {
  modelFromJSON,
  ReconstructionModel,
  SupervisedModel,
  type ObjectiveTerms,
} from '../../src/models/index.js';
import { networkFromJSON } from '../../src/networks/registry.js';
import { AdamConfig, SGDConfig } from '../../src/optim/optimizers.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import type { Batch } from '../../src/data/batch.js';
import { AUTOENCODER, CNN, patchSource, readPatches, type Patches } from './patches.js';

const NET_SOURCE = `
network Tiny(inShape: ints = [1, 6, 6, 6]) {
  input image: inShape
  x = relu(conv(image, 4, 3, padding: 1, name: "conv"))
  output logits = linear(flatten(maxPool(x, 2)), 2, name: "fc")
}
`;

async function epochLosses(model: SupervisedModel, patches: Patches, epochs: number) {
  const source = patchSource(patches, 4);
  const means: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const steps: Promise<Record<string, number>>[] = [];
    for await (const batch of source.batches(epoch, true)) steps.push(model.trainingStep(batch));
    const losses = await Promise.all(steps);
    means.push(losses.reduce((sum, loss) => sum + loss.loss!, 0) / losses.length);
  }
  return means;
}

/** A reconstruction model trained on MSE plus 0.1 L1, both written with the tensor API. */
class TwoLossModel extends ReconstructionModel {
  override readonly name = 'TwoLossModel';
  protected override objective({ output, input }: ObjectiveTerms): Tensor {
    const difference = output.sub(input);
    return difference.square().mean().add(difference.abs().mean().mul(0.1));
  }
}

describe('models', () => {
  let gpu: Gpu;
  let classes: Patches;
  let images: Patches;
  before(async () => {
    gpu = await acquireGpu();
    classes = await readPatches(16, 6);
    images = await readPatches(4, 8);
  });
  after(() => gpu?.destroy());

  it('reduces a classification loss', async () => {
    const model = new SupervisedModel({
      network: networkFromJSON(CNN),
      loss: CrossEntropyLossConfig(),
      optimizer: AdamConfig({ lr: 0.02 }),
    });
    await model.compile({ gpu, batchSize: 4, seed: 3 });
    const losses = await epochLosses(model, classes, 12);
    assert.ok(losses.at(-1)! < 0.6 * losses[0]!, `losses ${losses.map((l) => l.toFixed(3))}`);
  });

  it('reduces a reconstruction loss', async () => {
    const model = new ReconstructionModel({
      network: AUTOENCODER,
      loss: MSELossConfig(),
      optimizer: AdamConfig({ lr: 0.002 }),
    });
    await model.compile({ gpu, batchSize: 4, seed: 3 });
    const losses = await epochLosses(model, images, 25);
    assert.ok(losses.at(-1)! < 0.6 * losses[0]!, `losses ${losses.map((l) => l.toFixed(4))}`);
  });

  it('trains an overridden objective', async () => {
    const model = new TwoLossModel({
      network: AUTOENCODER,
      loss: L1LossConfig(),
      optimizer: AdamConfig({ lr: 0.002 }),
    });
    await model.compile({ gpu, batchSize: 4, seed: 3 });
    const losses = await epochLosses(model, images, 25);
    assert.ok(losses.at(-1)! < 0.7 * losses[0]!, `losses ${losses.map((l) => l.toFixed(4))}`);
  });

  it('trains a .net source network', async () => {
    const model = new SupervisedModel({
      network: { netSource: NET_SOURCE },
      loss: CrossEntropyLossConfig(),
      optimizer: AdamConfig({ lr: 0.02 }),
    });
    assert.equal(model.networkSource(), NET_SOURCE);
    await model.compile({ gpu, batchSize: 4, seed: 3 });
    const losses = await epochLosses(model, classes, 12);
    assert.ok(losses.at(-1)! < 0.6 * losses[0]!, `losses ${losses.map((l) => l.toFixed(3))}`);
  });

  it('summarises its network', () => {
    const model = new SupervisedModel({
      network: CNN,
      loss: CrossEntropyLossConfig(),
      optimizer: SGDConfig(),
    });
    const lines = model.summary(2).split('\n');
    // conv: 4 x 27 weights + 4 biases, 2 x 4 x 4^3 outputs x (27 multiply-adds + bias) FLOPs.
    assert.deepEqual(lines, [
      'layer                     ops      output shape     params  FLOPs',
      'convolutions.layer0.conv  conv     [2, 4, 4, 4, 4]  112     28,160',
      'mlp.flatten               reshape  [2, 256]         0       0',
      'mlp.output.linear         linear   [2, 2]           514     2,052',
      'parameters: 626, buffers: 0, FLOPs per sample: 15,106 (batch size 2)',
    ]);
  });

  it('evaluates whole images through a PatchInferer', async () => {
    const model = new ReconstructionModel({
      network: AUTOENCODER,
      loss: MSELossConfig(),
      optimizer: SGDConfig(),
      inferer: { name: 'PatchInferer', patchSize: [8, 8, 8], overlap: 4, batchSize: 2 },
    });
    await model.compile({ gpu, batchSize: 4, seed: 3 });
    const large = await readPatches(2, 12);
    const [batch] = await first(patchSource(large, 2));
    const evaluated = await model.evaluationStep(batch!);
    assert.deepEqual(evaluated.outputShape, [2, 1, 12, 12, 12]);
    const voxels = 12 ** 3;
    for (let row = 0; row < 2; row++) {
      let squared = 0;
      for (let i = 0; i < voxels; i++) {
        const difference =
          evaluated.output[row * voxels + i]! - batch!.fields.image![row * voxels + i]!;
        squared += difference * difference;
      }
      const expected = squared / voxels;
      assert.ok(
        Math.abs(evaluated.losses.loss![row]! - expected) <= 1e-5 * Math.max(1, expected),
        `row ${row}`,
      );
    }
  });

  it('resets to the initial weights of a seed', async () => {
    const build = () =>
      new SupervisedModel({ network: CNN, loss: CrossEntropyLossConfig(), optimizer: SGDConfig() });
    const fresh = build();
    await fresh.compile({ gpu, batchSize: 4, seed: 9 });
    const trained = build();
    await trained.compile({ gpu, batchSize: 4, seed: 2 });
    await epochLosses(trained, classes, 1);
    await trained.reset(9);
    assert.equal(trained.steps, 0);
    const expected = await fresh.readState();
    const actual = await trained.readState();
    for (const [name, values] of expected)
      assert.deepEqual([...actual.get(name)!], [...values], name);
  });

  it('drops padded rows in evaluation', async () => {
    const model = new SupervisedModel({
      network: CNN,
      loss: CrossEntropyLossConfig(),
      optimizer: SGDConfig(),
    });
    await model.compile({ gpu, batchSize: 4, seed: 1 });
    const batches: Batch[] = [];
    for await (const batch of patchSource(classes, 3).batches(0, false)) batches.push(batch);
    const short = batches.at(-1)!;
    assert.equal(short.size, 1);
    const evaluated = await model.evaluationStep(short);
    assert.deepEqual(evaluated.outputShape, [1, 2]);
    assert.equal(evaluated.output.length, 2);
    assert.equal(evaluated.losses.loss!.length, 1);
    assert.ok(Number.isFinite(evaluated.losses.loss![0]!));
  });

  it('names a missing label field', async () => {
    const model = new SupervisedModel({
      network: CNN,
      loss: CrossEntropyLossConfig(),
      optimizer: SGDConfig(),
      labelKey: 'diagnosis',
    });
    await model.compile({ gpu, batchSize: 4, seed: 1 });
    const [batch] = await first(patchSource(classes, 4));
    await assert.rejects(model.trainingStep(batch!), /no label field 'diagnosis'/);
  });

  it('rejects a label out of range', async () => {
    const model = new SupervisedModel({
      network: CNN,
      loss: CrossEntropyLossConfig(),
      optimizer: SGDConfig(),
    });
    await model.compile({ gpu, batchSize: 4, seed: 1 });
    const [batch] = await first(patchSource(classes, 4));
    batch!.fields.label = Int32Array.of(0, 1, 5, 0);
    await assert.rejects(model.trainingStep(batch!), /row 2 is 5/);
  });
});

async function first(source: ReturnType<typeof patchSource>): Promise<Batch[]> {
  for await (const batch of source.batches(0, false)) return [batch];
  return [];
}

describe('model configs', () => {
  const models = [
    () =>
      new SupervisedModel({
        network: CNN,
        loss: { name: 'CrossEntropyLoss' },
        optimizer: { name: 'Adam' },
        labelKey: 'diagnosis',
      }),
    () =>
      new ReconstructionModel({
        network: AUTOENCODER,
        loss: MSELossConfig(),
        optimizer: SGDConfig({ lr: 0.1 }),
        inferer: { name: 'SliceInferer', axis: 2, batchSize: 4 },
      }),
  ];
  for (const build of models) {
    it(`round trips ${build().name} through JSON`, () => {
      const json = JSON.parse(JSON.stringify(build().toJSON()));
      assert.deepEqual(modelFromJSON(json).toJSON(), json);
    });
  }

  const bad: [string, () => unknown, RegExp][] = [
    [
      'unknown inferer',
      () =>
        new SupervisedModel({
          network: CNN,
          loss: MSELossConfig(),
          optimizer: SGDConfig(),
          inferer: { name: 'PatchInfer', patchSize: [4], batchSize: 1 },
        }),
      /Did you mean 'PatchInferer'/,
    ],
    [
      'unknown model',
      () => modelFromJSON({ name: 'SupervisedModle' }),
      /Did you mean 'SupervisedModel'/,
    ],
    [
      'reduction none',
      () =>
        new SupervisedModel({
          network: CNN,
          loss: MSELossConfig({ reduction: 'none' }),
          optimizer: SGDConfig(),
        }),
      /reduction 'none'/,
    ],
    [
      'class loss for images',
      () =>
        new ReconstructionModel({
          network: AUTOENCODER,
          loss: CrossEntropyLossConfig(),
          optimizer: SGDConfig(),
        }),
      /needs a loss that compares two images/,
    ],
    [
      'bad network',
      () =>
        new SupervisedModel({
          network: { name: 'CNNN' },
          loss: MSELossConfig(),
          optimizer: SGDConfig(),
        }),
      /CNNN/,
    ],
    [
      'missing .net file',
      () =>
        new SupervisedModel({
          network: { netFile: '/nonexistent.net' },
          loss: MSELossConfig(),
          optimizer: SGDConfig(),
        }),
      /Cannot read the .net file/,
    ],
  ];
  for (const [title, build, message] of bad) {
    it(`rejects ${title}`, () => {
      assert.throws(build, message);
    });
  }
});
