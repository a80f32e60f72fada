import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/build.mjs';
import { zipExperimentFiles } from '../../src/experiment/files.js';
import { MSELossConfig } from '../../src/losses/index.js';
import { ReconstructionModel } from '../../src/models/index.js';
import { AdamConfig } from '../../src/optim/optimizers.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { decodeWeights } from '../../src/training/maps.js';
import { readWeights } from '../../src/training/storage-node.js';
import { memoryStorage } from '../../src/training/storage.js';
import { Trainer } from '../../src/training/trainer.js';
import { patchSource, readPatches, type Patches } from '../models/patches.js';
import { CONFIG, killTestModel } from './kill-setup.js';

const LAST = 'split-0/checkpoints/last/model.safetensors';

describe('Trainer storage', () => {
  let gpu: Gpu;
  let patches: Patches;
  let folder: string;
  before(async () => {
    gpu = await acquireGpu();
    patches = await readPatches(10, 6);
    folder = await mkdtemp(join(tmpdir(), 'trainer-storage-'));
  });
  after(async () => {
    gpu?.destroy();
    await rm(folder, { recursive: true, force: true });
  });

  const sources = () => ({
    train: patchSource(patches, 4, 1),
    validation: patchSource(patches, 4, 2),
  });
  const config = { ...CONFIG, epochs: 2 };

  it('trains into memory as on disk', async () => {
    const disk = join(folder, 'disk');
    await new Trainer({ maps: disk, model: killTestModel(), gpu, config }).train(sources());
    const storage = memoryStorage();
    await new Trainer({ maps: storage, model: killTestModel(), gpu, config }).train(sources());

    const files = await storage.list();
    for (const path of ['experiment.json', 'networks/CNN.json', 'split-0/training.tsv', LAST]) {
      assert.ok(files.includes(path), `${path} in ${files.join(', ')}`);
    }
    const expected = await readWeights(join(disk, LAST));
    const actual = decodeWeights(storage.files.get(LAST)!, LAST);
    assert.deepEqual([...actual.keys()], [...expected.keys()]);
    for (const [name, values] of expected) assert.deepEqual(actual.get(name), values, name);

    const zipped = zipExperimentFiles(storage.toZip());
    const experiment = JSON.parse(await zipped.readText('experiment.json'));
    assert.equal(experiment.model.name, 'SupervisedModel');
    assert.deepEqual(await zipped.readBytes(LAST), storage.files.get(LAST));
  });

  it('resumes from memory', async () => {
    const storage = memoryStorage();
    const killAfterFirst = {
      onEpochEnd(record: { epoch: number }) {
        if (record.epoch === 0) throw new Error('stopped after epoch 0');
      },
    };
    const first = new Trainer({
      maps: storage,
      model: killTestModel(),
      gpu,
      config,
      callbacks: [killAfterFirst],
    });
    await assert.rejects(first.train(sources()), /stopped after epoch 0/);
    const resumed = await Trainer.fromMaps(storage, gpu);
    const history = await resumed.train({ ...sources(), resume: true });
    assert.deepEqual(
      history.map((record) => record.epoch),
      [0, 1],
    );
    const expected = await readWeights(join(folder, 'disk', LAST));
    const actual = decodeWeights(storage.files.get(LAST)!, LAST);
    for (const [name, values] of expected) assert.deepEqual(actual.get(name), values, name);
  });

  it('stores the network with its imports', async () => {
    const storage = memoryStorage();
    const model = new ReconstructionModel({
      network: {
        netFile: join(ROOT, 'dsl', 'autoencoder.net'),
        network: 'AutoEncoder',
        set: ['inShape=[1, 6, 6, 6]', 'latentSize=4', 'convArgs={channels: [2], norm: none}'],
      },
      loss: MSELossConfig(),
      optimizer: AdamConfig({ lr: 0.01 }),
    });
    const trainer = new Trainer({
      maps: storage,
      model,
      gpu,
      config: { epochs: 2, batchSize: 4, metrics: ['loss', 'psnr', 'ssim'], selection: ['psnr'] },
    });
    const history = await trainer.train(sources());

    const files = await storage.list();
    for (const name of ['network.net', 'cnn.net', 'common.net']) {
      const copied = new TextDecoder().decode(storage.files.get(`networks/${name}`));
      const name2 = name === 'network.net' ? 'autoencoder.net' : name;
      assert.equal(copied, await readFile(join(ROOT, 'dsl', name2), 'utf8'), name);
    }
    const experiment = JSON.parse(new TextDecoder().decode(storage.files.get('experiment.json')));
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(experiment.versions.clinicadlWebgpu, version);
    assert.equal(experiment.network, 'networks/network.net');

    const psnr = history.map((record) => record.validation.psnr!);
    const ssim = history.map((record) => record.validation.ssim!);
    assert.ok(psnr.every(Number.isFinite), `psnr ${psnr}`);
    assert.ok(
      ssim.every((value) => value > -1 && value <= 1),
      `ssim ${ssim}`,
    );
    assert.ok(files.includes('split-0/best-psnr/model.safetensors'));
    const best = JSON.parse(
      new TextDecoder().decode(storage.files.get('split-0/best-psnr/metrics.json')),
    );
    assert.equal(best.epoch, psnr.indexOf(Math.max(...psnr)));
    assert.equal(best.psnr, Math.max(...psnr));
  });
});
