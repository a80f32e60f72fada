import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { CrossEntropyLossConfig } from '../../src/losses/index.js';
import { SupervisedModel } from '../../src/models/index.js';
import type { BatchSource } from '../../src/data/batch.js';
import { AdamConfig } from '../../src/optim/optimizers.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { ProgressCallback, type EpochRecord } from '../../src/training/callbacks.js';
import { readWeights } from '../../src/training/storage-node.js';
import { Trainer } from '../../src/training/trainer.js';
import { CNN, patchSource, readPatches, type Patches } from '../models/patches.js';
import { CONFIG, killTestModel as model } from './kill-setup.js';

const DATA = { dataset: { tsv: 'participants.tsv', labelColumn: 'label' }, patchSize: 6 };

/** Stops a run after `epoch` (0-based) finished and was checkpointed, like a kill. */
class Kill extends Error {}
const killAfter = (epoch: number) => ({
  onEpochEnd(record: EpochRecord) {
    if (record.epoch === epoch) throw new Kill(`killed after epoch ${epoch}`);
  },
});

describe('Trainer', () => {
  let gpu: Gpu;
  let patches: Patches;
  let folder: string;
  before(async () => {
    gpu = await acquireGpu();
    // 10 samples in batches of 4: the last batch of each epoch has 2 rows and 2 padded ones.
    patches = await readPatches(10, 6);
    folder = await mkdtemp(join(tmpdir(), 'trainer-'));
  });
  after(async () => {
    gpu?.destroy();
    await rm(folder, { recursive: true, force: true });
  });

  const sources = () => ({
    train: patchSource(patches, 4, 1),
    validation: patchSource(patches, 4, 2),
  });

  it('resumes to the same weights after a kill', async () => {
    const straight = join(folder, 'straight');
    const lines: string[] = [];
    const trainer = new Trainer({
      maps: straight,
      model: model(),
      gpu,
      config: CONFIG,
      data: DATA,
      callbacks: [new ProgressCallback((line) => lines.push(line))],
    });
    const history = await trainer.train(sources());
    assert.equal(history.length, 4);
    assert.equal(lines.length, 6, 'two compilation lines and 4 epoch lines');
    assert.match(lines[0]!, /^compiling GPU pipelines/);
    assert.match(lines[1]!, /^compiled GPU pipelines in \d+\.\d s$/);
    assert.match(lines[5]!, /^epoch 4\/4 {2}loss \S+ {2}val loss \S+ .* samples\/s/);

    const killed = join(folder, 'killed');
    const first = new Trainer({
      maps: killed,
      model: model(),
      gpu,
      config: CONFIG,
      callbacks: [killAfter(1)],
    });
    await assert.rejects(first.train(sources()), Kill);
    const resumed = await Trainer.fromMaps(killed, gpu);
    const rest = await resumed.train({ ...sources(), resume: true });
    assert.deepEqual(
      rest.map((record) => record.epoch),
      [0, 1, 2, 3],
    );

    const expected = await readWeights(
      join(straight, 'split-0', 'checkpoints', 'last', 'model.safetensors'),
    );
    const actual = await readWeights(
      join(killed, 'split-0', 'checkpoints', 'last', 'model.safetensors'),
    );
    assert.deepEqual([...actual.keys()], [...expected.keys()]);
    for (const [name, values] of expected) {
      assert.deepEqual(
        new Uint32Array(actual.get(name)!.buffer.slice(0)),
        new Uint32Array(values.buffer.slice(0)),
        name,
      );
    }
    history.forEach((record, epoch) => {
      assert.equal(rest[epoch]!.train.loss, record.train.loss, `epoch ${epoch} loss`);
    });
    assert.deepEqual(
      rest.map((record) => record.lrFactor),
      [1, 1, 0.5, 0.5],
    );
  });

  it('resumes after a kill mid-epoch', async () => {
    const root = join(folder, 'mid-epoch');
    const { train, validation } = sources();
    // The source fails after the first batch of epoch 2, as a process killed mid-epoch.
    const failing: BatchSource = {
      ...train,
      async *batches(epoch, shuffle) {
        let count = 0;
        for await (const batch of train.batches(epoch, shuffle)) {
          if (epoch === 2 && count++ === 1) throw new Kill('killed in epoch 2');
          yield batch;
        }
      },
    };
    const first = new Trainer({ maps: root, model: model(), gpu, config: CONFIG });
    await assert.rejects(first.train({ train: failing, validation }), Kill);
    const resumed = await Trainer.fromMaps(root, gpu);
    await resumed.train({ train, validation, resume: true });
    const last = (path: string) =>
      readWeights(join(path, 'split-0', 'checkpoints', 'last', 'model.safetensors'));
    const expected = await last(join(folder, 'straight'));
    const actual = await last(root);
    for (const [name, values] of expected) {
      assert.deepEqual([...actual.get(name)!], [...values], name);
    }
  });

  it('resumes after the process is killed', async function () {
    this.timeout(120_000);
    const root = join(folder, 'sigkill');
    const worker = spawn(
      process.execPath,
      ['--import', './scripts/node-loaders.mjs', 'test/training/kill-worker.ts', root],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    await new Promise<void>((resolve, reject) => {
      worker.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('stalled')) resolve();
      });
      worker.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${output}`)));
    });
    worker.kill('SIGKILL');
    await new Promise((resolve) => worker.once('close', resolve));

    const checkpoint = join(root, 'split-0', 'checkpoints');
    assert.deepEqual((await readdir(checkpoint)).sort(), ['last']);
    assert.deepEqual((await readdir(join(checkpoint, 'last'))).sort(), [
      'model.safetensors',
      'optimizer.safetensors',
      'trainer.json',
    ]);
    const resumed = await Trainer.fromMaps(root, gpu);
    await resumed.train({ ...sources(), resume: true });
    const last = (path: string) =>
      readWeights(join(path, 'split-0', 'checkpoints', 'last', 'model.safetensors'));
    const expected = await last(join(folder, 'straight'));
    const actual = await last(root);
    for (const [name, values] of expected) {
      assert.deepEqual([...actual.get(name)!], [...values], name);
    }
  });

  it('resumes Adam with accumulation and clipping exactly', async () => {
    const adam = () =>
      new SupervisedModel({
        network: CNN,
        loss: CrossEntropyLossConfig(),
        optimizer: AdamConfig(),
      });
    const config = { ...CONFIG, epochs: 2, accumulationSteps: 3, clipGradNorm: 0.5 };
    const straight = join(folder, 'adam-straight');
    await new Trainer({ maps: straight, model: adam(), gpu, config }).train(sources());

    const root = join(folder, 'adam');
    const first = new Trainer({
      maps: root,
      model: adam(),
      gpu,
      config,
      callbacks: [killAfter(0)],
    });
    await assert.rejects(first.train(sources()), Kill);
    await new Trainer({ maps: root, model: adam(), gpu, config }).train({
      ...sources(),
      resume: true,
    });
    const last = (path: string) =>
      readWeights(join(path, 'split-0', 'checkpoints', 'last', 'model.safetensors'));
    const expected = await last(straight);
    const actual = await last(root);
    for (const [name, values] of expected) {
      assert.deepEqual([...actual.get(name)!], [...values], name);
    }
  });

  it('keeps the weights with gradient checkpointing', async () => {
    const config = { ...CONFIG, epochs: 1 };
    const plain = join(folder, 'recompute-none');
    await new Trainer({ maps: plain, model: model(), gpu, config }).train(sources());
    const segmented = join(folder, 'recompute-2');
    const checkpointed = { ...config, gradientCheckpointing: { segments: 2 } };
    await new Trainer({ maps: segmented, model: model(), gpu, config: checkpointed }).train(
      sources(),
    );
    const last = (path: string) =>
      readWeights(join(path, 'split-0', 'checkpoints', 'last', 'model.safetensors'));
    const expected = await last(plain);
    const actual = await last(segmented);
    for (const [name, values] of expected) {
      assert.deepEqual([...actual.get(name)!], [...values], name);
    }
  });

  it('rejects an unknown gradientCheckpointing value', () => {
    const config = { ...CONFIG, gradientCheckpointing: 'half' } as unknown as typeof CONFIG;
    assert.throws(
      () => new Trainer({ maps: join(folder, 'bad'), model: model(), gpu, config }),
      /gradientCheckpointing/,
    );
  });

  it('writes the experiment folder', async () => {
    const root = join(folder, 'straight');
    const experiment = JSON.parse(await readFile(join(root, 'experiment.json'), 'utf8'));
    assert.equal(experiment.mapsVersion, 1);
    assert.equal(experiment.seed, 5);
    assert.equal(experiment.model.name, 'SupervisedModel');
    assert.equal(experiment.trainer.epochs, 4);
    assert.deepEqual(experiment.data, DATA);
    assert.deepEqual((await Trainer.fromMaps(root, gpu)).data, DATA);
    assert.equal(typeof experiment.adapter, 'string');
    assert.deepEqual(
      JSON.parse(await readFile(join(root, experiment.network), 'utf8')).name,
      'CNN',
    );
    const tsv = (await readFile(join(root, 'split-0', 'training.tsv'), 'utf8')).trim().split('\n');
    assert.equal(tsv.length, 5);
    assert.deepEqual(tsv[0]!.split('\t').slice(0, 5), [
      'epoch',
      'train_loss',
      'validation_loss',
      'validation_accuracy',
      'validation_balancedAccuracy',
    ]);
    const split = await readdir(join(root, 'split-0'));
    assert.deepEqual(split.sort(), ['best-accuracy', 'best-loss', 'checkpoints', 'training.tsv']);
    const weights = await readWeights(join(root, 'split-0', 'best-loss', 'model.safetensors'));
    assert.deepEqual(
      [...weights.keys()].sort(),
      [
        'mlp.output.linear.bias',
        'mlp.output.linear.weight',
        'convolutions.layer0.conv.bias',
        'convolutions.layer0.conv.weight',
      ].sort(),
    );
  });

  it('selects the best model per metric', async () => {
    const root = join(folder, 'straight');
    const rows = (await readFile(join(root, 'split-0', 'training.tsv'), 'utf8'))
      .trim()
      .split('\n')
      .slice(1);
    const losses = rows.map((row) => Number(row.split('\t')[2]));
    const accuracies = rows.map((row) => Number(row.split('\t')[3]));
    const bestLoss = JSON.parse(
      await readFile(join(root, 'split-0', 'best-loss', 'metrics.json'), 'utf8'),
    );
    const bestAccuracy = JSON.parse(
      await readFile(join(root, 'split-0', 'best-accuracy', 'metrics.json'), 'utf8'),
    );
    assert.equal(bestLoss.epoch, losses.indexOf(Math.min(...losses)));
    assert.equal(bestAccuracy.epoch, accuracies.indexOf(Math.max(...accuracies)));
  });

  it('writes predictions and metrics of a set', async () => {
    const trainer = await Trainer.fromMaps(join(folder, 'straight'), gpu);
    const metrics = await trainer.evaluate('test', patchSource(patches, 4));
    const root = join(folder, 'straight', 'split-0', 'test');
    const rows = (await readFile(join(root, 'predictions.tsv'), 'utf8')).trim().split('\n');
    assert.equal(rows.length, 11);
    assert.deepEqual(rows[0]!.split('\t'), [
      'participant_id',
      'session_id',
      'index',
      'loss_loss',
      'output_0',
      'output_1',
    ]);
    const saved = JSON.parse(await readFile(join(root, 'metrics.json'), 'utf8'));
    assert.equal(saved.checkpoint, 'best-loss');
    assert.equal(saved.accuracy, metrics.accuracy);
    assert.ok(metrics.accuracy! >= 0);
    assert.ok(metrics.accuracy! <= 1);
  });

  it('stops early without improvement', async () => {
    const config = {
      ...CONFIG,
      epochs: 6,
      earlyStopping: { metric: 'accuracy', patience: 1, minDelta: 2 },
    };
    const trainer = new Trainer({ maps: join(folder, 'early'), model: model(), gpu, config });
    const history = await trainer.train(sources());
    // minDelta 2 exceeds any accuracy gain, so the second validation already fails to improve.
    assert.equal(history.length, 2);
  });

  it('rejects a folder of another version', async () => {
    const root = join(folder, 'straight');
    const path = join(root, 'experiment.json');
    const experiment = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...experiment, mapsVersion: 99 }));
    await assert.rejects(Trainer.fromMaps(root, gpu), /experiment.json' has mapsVersion 99/);
  });

  const bad: [string, object, RegExp][] = [
    ['unknown metric', { metrics: ['acuracy'] }, /Did you mean 'accuracy'/],
    ['selection outside metrics', { metrics: ['loss'], selection: ['accuracy'] }, /not in metrics/],
    ['zero accumulation steps', { accumulationSteps: 0 }, /accumulationSteps/],
    ['negative clipping norm', { clipGradNorm: -1 }, /clipGradNorm/],
    ['misspelt field', { epoch: 3 }, /Did you mean 'epochs'/],
    ['unknown schedule', { schedule: { name: 'Stepp' } }, /Did you mean 'Step'/],
  ];
  for (const [title, config, message] of bad) {
    it(`rejects ${title}`, () => {
      assert.throws(() => new Trainer({ maps: folder, model: model(), gpu, config }), message);
    });
  }

  it('rejects batches larger than the batch size', async () => {
    const trainer = new Trainer({
      maps: join(folder, 'large'),
      model: model(),
      gpu,
      config: { ...CONFIG, batchSize: 2 },
    });
    await assert.rejects(
      trainer.train({ train: patchSource(patches, 4) }),
      /batches of 4, more than/,
    );
  });

  it('raises a failed step as its own error', async () => {
    const broken = model();
    const step = broken.trainingStep.bind(broken);
    let calls = 0;
    broken.trainingStep = async (batch, lrFactor) => {
      calls += 1;
      if (calls === 2) throw new UserError('step 2 failed');
      return step(batch, lrFactor);
    };
    // Batches that take a while to prepare, so the second step fails while the trainer waits
    // for the third batch, before anything awaits that step.
    const train = patchSource(patches, 4, 1);
    const slow: BatchSource = {
      batchSize: train.batchSize,
      length: train.length,
      async *batches(epoch, shuffle) {
        for await (const batch of train.batches(epoch, shuffle)) {
          yield batch;
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
      },
    };
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const maps = join(folder, 'failing');
      const trainer = new Trainer({ maps, model: broken, gpu, config: CONFIG });
      await assert.rejects(trainer.train({ train: slow }), /step 2 failed/);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', record);
    }
    assert.deepEqual(unhandled, []);
    assert.equal(calls, 2);
  });

  it('rejects resume without a checkpoint', async () => {
    const trainer = new Trainer({
      maps: join(folder, 'straight'),
      model: model(),
      gpu,
      config: CONFIG,
    });
    await assert.rejects(
      trainer.train({ ...sources(), split: 3, resume: true }),
      /mapsVersion 99|No checkpoint/,
    );
  });
});
