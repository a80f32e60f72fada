import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stringify as toToml } from 'smol-toml';

import { runCli } from './helpers.js';

// 6 subjects at 8 mm: 2 train, 2 validation, 2 test; a CNN of one 2-channel layer.
const TINY_DATASET = ['--subjects-per-class', '3', '--resample', '8', '--crop', 'brain'];

function tinyConfig(dataset: string) {
  return {
    data: {
      dataset,
      label: 'diagnosis',
      classes: ['CN', 'AD'],
      test: 0.34,
      validation: 0.5,
      maxBytes: 100_000_000,
    },
    network: {
      name: 'CNN',
      settings: { convArgs: { channels: [2], padding: 1, poolingIndices: [0], norm: null } },
    },
    optimizer: { name: 'Adam', lr: 0.01 },
    trainer: { epochs: 1, batchSize: 2, metrics: ['loss', 'balancedAccuracy'] },
  };
}

// The JSON files' fields are checked one by one below, so a loose type is enough here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Json;
const tsvLines = (path: string) => readFileSync(path, 'utf8').trim().split('\n');

describe('cli train', function () {
  // Compiling the GPU pipelines can take minutes on lavapipe when the machine is loaded.
  this.timeout(300_000);
  let root: string;
  let dataset: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'cli-train-'));
    dataset = join(root, 'dataset');
    const run = await runCli('generate', 'trivial', dataset, ...TINY_DATASET, '--workers', '0');
    assert.equal(run.status, 0, run.stderr);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('trains from a JSON config and writes the experiment folder', async () => {
    const config = join(root, 'tiny.json');
    writeFileSync(config, JSON.stringify(tinyConfig(dataset)));
    const maps = join(root, 'maps-json');
    const run = await runCli('train', config, '--output', maps);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Training CNN on 2 images \(validation 2, test 2\)/);
    assert.match(run.stdout, /epoch 1\/1 {2}loss \S+/);
    const metrics = readJson(join(maps, 'split-0', 'test', 'metrics.json'));
    assert.equal(metrics.checkpoint, 'best-loss');
    assert.ok(metrics.balancedAccuracy >= 0);
    assert.ok(metrics.balancedAccuracy <= 1);
    assert.match(
      run.stdout,
      new RegExp(`balancedAccuracy +${metrics.balancedAccuracy.toFixed(4)}`),
    );
    assert.match(run.stdout, new RegExp(`Report: ${join(maps, 'report.html')}`));
    assert.equal(tsvLines(join(maps, 'split-0', 'test', 'predictions.tsv')).length, 3);
    assert.equal(readJson(join(maps, 'train-config.json')).data.dataset, dataset);
    // predict and interpret read the size limit from experiment.json.
    assert.equal(readJson(join(maps, 'experiment.json')).data.maxBytes, 100_000_000);
  });

  it('trains from a TOML config with --set and flag overrides', async () => {
    const config = join(root, 'tiny.toml');
    const { trainer, ...rest } = tinyConfig('not-used');
    writeFileSync(config, toToml({ ...rest, trainer, output: join(root, 'unused') }));
    const maps = join(root, 'maps-toml');
    const run = await runCli(
      'train',
      config,
      '--set',
      `data.dataset=${dataset}`,
      '--set',
      'trainer.metrics=["loss","accuracy"]',
      '--epochs',
      '2',
      '--output',
      maps,
    );
    assert.equal(run.status, 0, run.stderr);
    const history = tsvLines(join(maps, 'split-0', 'training.tsv'));
    assert.equal(history.length, 3, 'a header and 2 epochs');
    assert.ok(history[0]!.split('\t').includes('validation_accuracy'));
    const saved = readJson(join(maps, 'train-config.json'));
    assert.equal(saved.trainer.epochs, 2);
    assert.equal(saved.data.dataset, dataset);
  });

  it('trains an AutoEncoder as a ReconstructionModel', async () => {
    const config = join(root, 'autoencoder.json');
    const { data, trainer } = tinyConfig(dataset);
    const network = {
      name: 'AutoEncoder',
      settings: { latentSize: 4, convArgs: { channels: [2], padding: 1, norm: null } },
    };
    const metrics = ['loss'];
    writeFileSync(
      config,
      JSON.stringify({
        model: 'ReconstructionModel',
        data: { dataset: data.dataset, test: data.test, validation: data.validation },
        network,
        trainer: { ...trainer, metrics },
      }),
    );
    const maps = join(root, 'maps-autoencoder');
    const run = await runCli('train', config, '--output', maps);
    assert.equal(run.status, 0, run.stderr);
    const experiment = readJson(join(maps, 'experiment.json'));
    assert.equal(experiment.model.name, 'ReconstructionModel');
    assert.equal(experiment.model.loss.name, 'MSELoss');
    const metricsJson = readJson(join(maps, 'split-0', 'test', 'metrics.json'));
    assert.ok(metricsJson.loss > 0);
    const html = readFileSync(join(maps, 'report.html'), 'utf8');
    assert.match(html, /id="plot-loss"/);
    assert.doesNotMatch(html, /id="confusion"/);
  });

  it('rejects a missing adapter with status 1', async () => {
    const config = join(root, 'adapter.json');
    writeFileSync(config, JSON.stringify(tinyConfig(dataset)));
    const previous = process.env.CLINICADL_ADAPTER;
    process.env.CLINICADL_ADAPTER = 'no-such-adapter';
    try {
      const run = await runCli('train', config, '--output', join(root, 'maps-adapter'));
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /No WebGPU adapter matches the name 'no-such-adapter'/);
    } finally {
      if (previous === undefined) delete process.env.CLINICADL_ADAPTER;
      else process.env.CLINICADL_ADAPTER = previous;
    }
  });

  const badConfigs: [string, (dataset: string) => unknown, RegExp][] = [
    [
      'a missing dataset',
      (d) => ({ ...tinyConfig(d), data: { label: 'diagnosis' } }),
      /TrainConfig\.data\.dataset: .*expected string/,
    ],
    [
      'a misspelt section',
      (d) => ({ ...tinyConfig(d), trainr: {} }),
      /unknown field 'trainr'\. Did you mean 'trainer'\?/,
    ],
    [
      'a misspelt trainer key',
      (d) => ({ ...tinyConfig(d), trainer: { epoch: 2 } }),
      /unknown field 'epoch'\. Did you mean 'epochs'\?/,
    ],
    [
      'epochs of the wrong type',
      (d) => ({ ...tinyConfig(d), trainer: { epochs: 'two' } }),
      /TrainerConfig\.epochs: .*expected number.*got "two"/,
    ],
    [
      'a network with neither name nor netFile',
      (d) => ({ ...tinyConfig(d), network: { settings: {} } }),
      /network needs name .* or netFile/,
    ],
    [
      'an unknown catalogue network',
      (d) => ({ ...tinyConfig(d), network: { name: 'CNNN' } }),
      /'CNNN' is not in the catalogue \(did you mean 'CNN'\?\)/,
    ],
    [
      'a folder that is not a dataset',
      () => tinyConfig('/nonexistent/dataset'),
      /'\/nonexistent\/dataset' is not a dataset: .*participants\.tsv does not exist/,
    ],
    [
      'a maxBytes of 0',
      (d) => ({ ...tinyConfig(d), data: { ...tinyConfig(d).data, maxBytes: 0 } }),
      /TrainConfig\.data\.maxBytes: .*>0/,
    ],
    [
      'an image above data.maxBytes',
      (d) => ({ ...tinyConfig(d), data: { ...tinyConfig(d).data, maxBytes: 100 } }),
      /declare 13156 voxels, 52624 bytes as float32, more than the limit of 100 bytes/,
    ],
    [
      'a classifier without a label',
      (d) => ({ ...tinyConfig(d), data: { dataset: d } }),
      /TrainConfig\.data\.label: expected string/,
    ],
  ];
  for (const [name, make, message] of badConfigs) {
    it(`rejects ${name} with status 1`, async () => {
      const config = join(root, 'bad.json');
      writeFileSync(config, JSON.stringify(make(dataset)));
      const run = await runCli('train', config, '--output', join(root, 'bad-maps'));
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stderr, message);
    });
  }

  const badCalls: [string, string[], RegExp][] = [
    ['a missing config file', ['/nonexistent.json'], /Cannot read the configuration file/],
    ['a bad --set', ['CONFIG', '--set', 'epochs'], /Invalid --set 'epochs': write key=value/],
    ['a bad --epochs', ['CONFIG', '--epochs', '0'], /Expected an integer >= 1/],
    ['no output folder', ['CONFIG'], /No experiment folder: give --output FOLDER/],
  ];
  for (const [name, args, message] of badCalls) {
    it(`rejects ${name} with status 1`, async () => {
      const config = join(root, 'good.json');
      writeFileSync(config, JSON.stringify(tinyConfig(dataset)));
      const run = await runCli('train', ...args.map((arg) => (arg === 'CONFIG' ? config : arg)));
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stderr, message);
    });
  }

  it('rejects a config file that is neither JSON nor TOML', async () => {
    const config = join(root, 'config.yaml');
    writeFileSync(config, 'data: {}\n');
    const run = await runCli('train', config, '--output', join(root, 'bad-maps'));
    assert.equal(run.status, 1);
    assert.match(run.stderr, /must end in \.json or \.toml, got '\.yaml'/);
  });
});
