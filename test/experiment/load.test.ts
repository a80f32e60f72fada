import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { zipSync } from 'fflate';

import {
  EXPERIMENT_LAYOUT_VERSION,
  inferTask,
  loadExperiment,
  memoryExperimentFiles,
  zipExperimentFiles,
} from '../../src/experiment/index.js';
import { catalogueHost, loadExperimentPath } from '../../src/experiment/node.js';
import { UserError } from '../../src/errors.js';
import { MAPS_VERSION } from '../../src/training/maps.js';
import { DATA, IN_SHAPE, SETTINGS, fixtureFolder, fixtureWeights } from './fixture.js';

const encoder = new TextEncoder();
const bytesOf = (files: Map<string, Uint8Array | string>) =>
  Object.fromEntries(
    [...files].map(([path, content]) => [
      path,
      typeof content === 'string' ? encoder.encode(content) : content,
    ]),
  );

describe('loadExperiment', () => {
  it('reads network, shapes, task and weights', async () => {
    const loaded = await loadExperiment(memoryExperimentFiles(fixtureFolder()));
    assert.equal(loaded.modelName, 'SupervisedModel');
    assert.equal(loaded.task, 'classification');
    assert.deepEqual(loaded.inShape, IN_SHAPE);
    assert.deepEqual(loaded.outShape, [2]);
    assert.deepEqual(loaded.network.set, SETTINGS);
    assert.equal(loaded.network.name, 'CNN');
    assert.equal(loaded.selection, 'loss');
    assert.equal(loaded.weightsPath, 'split-0/best-loss/model.safetensors');
    const expected = fixtureWeights();
    assert.deepEqual([...loaded.weights.keys()].sort(), [...expected.keys()].sort());
    for (const [name, tensor] of expected) assert.deepEqual(loaded.weights.get(name), tensor.data);
    assert.deepEqual(loaded.buildGraph(3).input('input')!.shape, [3, ...IN_SHAPE]);
  });

  it('reads the data section of experiment.json', async () => {
    const loaded = await loadExperiment(memoryExperimentFiles(fixtureFolder()));
    assert.equal(loaded.preprocessing!.source, 'experiment.json');
    assert.equal(loaded.preprocessing!.label, 'diagnosis');
    assert.deepEqual(loaded.preprocessing!.classes, ['CN', 'AD']);
    assert.deepEqual(loaded.preprocessing!.transforms.image, [{ op: 'zScore' }]);
    assert.deepEqual(loaded.preprocessing!.transforms.extraction, { mode: 'image' });
  });

  it('falls back to train-config.json data', async () => {
    const trainConfig = { data: { ...DATA, classes: ['A', 'B'] } };
    const files = memoryExperimentFiles(fixtureFolder({ data: null, trainConfig }));
    const loaded = await loadExperiment(files);
    assert.equal(loaded.preprocessing!.source, 'train-config.json');
    assert.deepEqual(loaded.preprocessing!.classes, ['A', 'B']);
  });

  it('leaves preprocessing undefined without data', async () => {
    const loaded = await loadExperiment(memoryExperimentFiles(fixtureFolder({ data: null })));
    assert.equal(loaded.preprocessing, undefined);
    assert.equal(loaded.task, 'classification');
  });

  it('chooses the selection metric', async () => {
    const files = memoryExperimentFiles(fixtureFolder());
    const loaded = await loadExperiment(files, { selection: 'balancedAccuracy' });
    assert.equal(loaded.weightsPath, 'split-0/best-balancedAccuracy/model.safetensors');
  });

  it('imports missing .net files from the fallback', async () => {
    const files = memoryExperimentFiles(fixtureFolder({ withCommon: false }));
    const loaded = await loadExperiment(files, { imports: catalogueHost() });
    assert.deepEqual(loaded.network.net!.fromFallback, ['common.net']);
    assert.ok(loaded.network.net!.sources.has('networks/common.net'));
  });

  it('reads a zip with one top folder', async () => {
    const entries = bytesOf(fixtureFolder());
    const nested = Object.fromEntries(
      Object.entries(entries).map(([path, bytes]) => [`maps/${path}`, bytes]),
    );
    const loaded = await loadExperiment(zipExperimentFiles(zipSync(nested), 'maps.zip'));
    assert.deepEqual(loaded.outShape, [2]);
    assert.equal(loaded.files.name, 'maps.zip');
  });

  it('reads a folder on disk', async () => {
    const root = mkdtempSync(join(tmpdir(), 'experiment-'));
    try {
      for (const [path, content] of fixtureFolder({ withCommon: false })) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), content);
      }
      const loaded = await loadExperimentPath(root);
      assert.deepEqual(loaded.inShape, IN_SHAPE);
      assert.deepEqual(loaded.network.net!.fromFallback, ['common.net']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('matches the trainer layout version', () => {
    assert.equal(EXPERIMENT_LAYOUT_VERSION, MAPS_VERSION);
  });

  const wrongShape = fixtureWeights();
  const first = [...wrongShape.keys()][0]!;
  wrongShape.set(first, { dtype: 'F32', shape: [1], data: new Float32Array(1) });
  const missing = fixtureWeights();
  missing.delete(first);
  const extra = fixtureWeights();
  extra.set('head.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
  const failures: [string, () => Map<string, Uint8Array | string>, object, RegExp][] = [
    ['no experiment.json', () => new Map([['a.txt', 'x']]), {}, /has no experiment\.json/],
    [
      'invalid JSON',
      () => new Map([['experiment.json', '{']]),
      {},
      /experiment\.json is not valid JSON/,
    ],
    [
      'another mapsVersion',
      () => fixtureFolder({ mapsVersion: 2 }),
      {},
      /mapsVersion 2.*reads version 1/,
    ],
    [
      'unknown selection',
      () => fixtureFolder(),
      { selection: 'auc' },
      /no weights 'split-0\/best-auc\/model\.safetensors'.*loss, balancedAccuracy/,
    ],
    ['absent split', () => fixtureFolder(), { split: 1 }, /No best-<metric> weights exist/],
    [
      'missing import',
      () => fixtureFolder({ withCommon: false }),
      {},
      /imported file 'common\.net' not found/,
    ],
    [
      'weights of another shape',
      () => fixtureFolder({ weights: wrongShape }),
      {},
      new RegExp(`'${first.replace('.', '\\.')}' has shape \\[1\\]`),
    ],
    [
      'weights missing a tensor',
      () => fixtureFolder({ weights: missing }),
      {},
      /is missing.*load the folder/,
    ],
    [
      'weights with an extra tensor',
      () => fixtureFolder({ weights: extra }),
      {},
      /the network has no 'head\.weight'/,
    ],
  ];
  for (const [name, files, options, message] of failures) {
    it(`rejects ${name}`, async () => {
      await assert.rejects(
        loadExperiment(memoryExperimentFiles(files(), 'fixture'), options),
        (error: Error) => error instanceof UserError && message.test(error.message),
      );
    });
  }

  it('rejects a file that is not a zip', () => {
    assert.throws(
      () => zipExperimentFiles(encoder.encode('not a zip'), 'upload.zip'),
      /upload\.zip is not a valid zip archive/,
    );
  });
});

describe('inferTask', () => {
  const preprocessing = (classes: string[]) => ({
    transforms: { image: [], extraction: { mode: 'image' as const }, sample: [] },
    classes,
    source: 'experiment.json',
  });
  const cases: [string, string, number[], number[], string[], string][] = [
    ['classifier', 'SupervisedModel', [1, 4, 4, 4], [2], ['a', 'b'], 'classification'],
    ['regressor', 'SupervisedModel', [1, 4, 4, 4], [1], [], 'regression'],
    ['segmenter', 'SupervisedModel', [1, 4, 4, 4], [3, 4, 4, 4], [], 'segmentation'],
    ['autoencoder', 'ReconstructionModel', [1, 4, 4, 4], [1, 4, 4, 4], [], 'reconstruction'],
  ];
  for (const [name, model, inShape, outShape, classes, task] of cases) {
    it(`${name} gives ${task}`, () => {
      assert.equal(inferTask(model, inShape, outShape, preprocessing(classes)), task);
    });
  }

  it('rejects an unusable output', () => {
    assert.throws(
      () => inferTask('SupervisedModel', [1, 4, 4, 4], [2, 2, 2], undefined),
      /neither class scores nor a voxel-wise map/,
    );
  });
});
