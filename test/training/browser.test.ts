import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Browser } from 'playwright-core';
import { bundleBrowser, ROOT } from '../../scripts/build.mjs';
import { MemoryLoader } from '../../src/data/memory-loader.js';
import { zipExperimentFiles } from '../../src/experiment/files.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { decodeWeights } from '../../src/training/maps.js';
import { memoryStorage } from '../../src/training/storage.js';
import { Trainer } from '../../src/training/trainer.js';
import {
  addBundle,
  launchChromium,
  serveFiles,
  skipWithoutChromium,
  type ServedFile,
} from '../helpers/browser.js';
import type { PageResult } from './browser/page.js';
import {
  NET_IMPORTS,
  syntheticSamples,
  tinyModel,
  toMemorySamples,
  TRAINER_CONFIG,
} from './browser/setup.js';

const PAGE = '<!doctype html><meta charset="utf-8"><script type="module" src="./page.js"></script>';
const LAST = 'split-0/checkpoints/last/model.safetensors';
// SwiftShader (in Chromium) and lavapipe (in Node) run the same WGSL, but their compilers may
// contract multiply-adds differently, so the weights are compared within a tolerance.
const WEIGHT_TOLERANCE = 1e-4;

describe('Trainer in a browser', function () {
  this.timeout(300_000);

  it('bundles without Node modules', async () => {
    const entryPoints = [
      'src/training/trainer.ts',
      'src/models/index.ts',
      'src/data/memory-loader.ts',
      'src/training/storage.ts',
    ].map((path) => join(ROOT, path));
    const bundle = await bundleBrowser({
      entryPoints,
      outdir: join(ROOT, 'build/trainer-web'),
      write: false,
      logLevel: 'silent',
    });
    assert.equal(bundle.errors.length, 0);
    assert.equal(bundle.outputFiles?.filter((file) => file.path.endsWith('.js')).length, 4);
  });

  it('rejects a Node module in the bundle', async () => {
    // The file loader reads images with node:fs, so the browser check must stop it.
    const entryPoints = [join(ROOT, 'src/data/loader.ts')];
    await assert.rejects(
      bundleBrowser({
        entryPoints,
        outdir: join(ROOT, 'build/trainer-web'),
        write: false,
        logLevel: 'silent',
      }),
      /'node:[a-z/]+' is a Node-only module/,
    );
  });

  describe('in Chromium', () => {
    let server: Server | undefined;
    let browser: Browser | undefined;
    let gpu: Gpu | undefined;

    before(function () {
      skipWithoutChromium(this);
    });

    after(async () => {
      await browser?.close();
      server?.close();
      gpu?.destroy();
    });

    it('trains a model that Node loads', async () => {
      const train = syntheticSamples(8, 11);
      const validation = syntheticSamples(4, 12);
      const bundle = await bundleBrowser({
        entryPoints: [join(ROOT, 'test/training/browser/page.ts')],
        outdir: join(ROOT, 'build/trainer-browser-test'),
        write: false,
      });
      const files = new Map<string, ServedFile>([['/', { type: 'text/html', body: PAGE }]]);
      addBundle(files, bundle.outputFiles ?? []);
      const served = await serveFiles(files);
      server = served.server;
      browser = await launchChromium();
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(served.url);
      await page.waitForFunction(() => typeof window.trainInPage === 'function');
      const result: PageResult = await page.evaluate(
        ([trainSamples, validationSamples]) => window.trainInPage(trainSamples, validationSamples),
        [train, validation] as const,
      );
      assert.deepEqual(pageErrors, []);
      assert.match(result.adapter, /\S/);
      assert.equal(result.trainLosses.length, 2);
      assert.ok(result.trainLosses.every(Number.isFinite), `losses ${result.trainLosses}`);

      // The zip contains the whole folder, the network's import included.
      const zip = Uint8Array.from(result.zip);
      const folder = zipExperimentFiles(zip, 'the page zip');
      const experiment = JSON.parse(await folder.readText('experiment.json'));
      assert.equal(experiment.network, 'networks/network.net');
      assert.equal(await folder.readText('networks/lib/act.net'), NET_IMPORTS['lib/act.net']);
      assert.equal(typeof experiment.versions.userAgent, 'string');

      // Node resumes the folder's model and evaluates with the page's weights.
      gpu = await acquireGpu();
      const storage = memoryStorage(Object.entries(unzipSync(zip)));
      const fromPage = decodeWeights(storage.files.get(LAST)!, LAST);
      const loaded = await Trainer.fromMaps(storage, gpu);
      const batchSize = TRAINER_CONFIG.batchSize;
      const metrics = await loaded.evaluate(
        'test',
        new MemoryLoader(toMemorySamples(validation), { batchSize }),
        { checkpoint: 'last' },
      );
      assert.ok(Number.isFinite(metrics.loss), `loss ${metrics.loss}`);
      assert.ok(storage.files.has('split-0/test/predictions.tsv'));

      // Node trains the same model on the same batches to the same weights.
      const nodeStorage = memoryStorage();
      const model = tinyModel();
      const nodeTrainer = new Trainer({ maps: nodeStorage, model, gpu, config: TRAINER_CONFIG });
      await nodeTrainer.train({
        train: new MemoryLoader(toMemorySamples(train), { batchSize, seed: 1 }),
        validation: new MemoryLoader(toMemorySamples(validation), { batchSize }),
      });
      const fromNode = decodeWeights(nodeStorage.files.get(LAST)!, LAST);
      await model.reset(TRAINER_CONFIG.seed);
      const initial = await model.readState();
      assert.deepEqual([...fromPage.keys()].sort(), [...fromNode.keys()].sort());
      for (const [name, values] of fromNode) {
        const page = fromPage.get(name)!;
        const difference = Math.max(...values.map((value, i) => Math.abs(value - page[i]!)));
        assert.ok(difference < WEIGHT_TOLERANCE, `${name} differs by ${difference}`);
        const moved = Math.max(
          ...values.map((value, i) => Math.abs(value - initial.get(name)![i]!)),
        );
        assert.ok(moved > 1e-3, `${name} moved by only ${moved} in training`);
      }
    });
  });
});
