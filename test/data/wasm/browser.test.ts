import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';

import { bundleBrowser, ROOT } from '../../../scripts/build.mjs';
import { runPipeline, type PreprocessStep } from '../../../src/data/transforms/pipeline.js';
import { affineFromRows, Volume } from '../../../src/data/volume.js';
import { loadImageKernels } from '../../../src/data/wasm/loader.js';
import {
  addBundle,
  launchChromium,
  serveFiles,
  skipWithoutChromium,
  type ServedFile,
} from '../../helpers/browser.js';
import type { BrowserInput, BrowserResult } from './browser-page.js';

const PAGE =
  '<!doctype html><meta charset="utf-8"><script type="module" src="./browser-page.js"></script>';
const STEPS: PreprocessStep[] = [
  { op: 'reorient' },
  { op: 'resample', spacing: 1.5 },
  { op: 'smooth', sigmaMm: 1 },
  { op: 'zScore' },
  { op: 'cropOrPad', shape: [8, 9, 6] },
  { op: 'augment', options: { noise: { min: 0.05, max: 0.1 }, gamma: { logRange: 0.2 } }, seed: 3 },
];

/** Bundles the test page and the Web Worker and serves them with the Wasm module on 127.0.0.1. */
async function servePage() {
  const bundle = await bundleBrowser({
    entryPoints: [
      join(ROOT, 'test/data/wasm/browser-page.ts'),
      join(ROOT, 'src/data/wasm/worker.ts'),
    ],
    outdir: join(ROOT, 'build/wasm-browser-test'),
    write: false,
  });
  const files = new Map<string, ServedFile>();
  files.set('/', { type: 'text/html', body: PAGE });
  files.set('/clinicadl.wasm', {
    type: 'application/wasm',
    body: readFileSync(join(ROOT, 'build/clinicadl.wasm')),
  });
  addBundle(files, bundle.outputFiles ?? []);
  return serveFiles(files);
}

describe('wasm kernels in a browser', function () {
  this.timeout(120_000);
  let server: Server | undefined;
  let browser: Browser | undefined;

  before(function () {
    skipWithoutChromium(this);
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('matches Node in the page and in Web Workers', async () => {
    const affine = affineFromRows([
      [-1, 0, 0, 6],
      [0, -1.2, 0, 5],
      [0, 0, -0.9, -3],
    ]);
    const dims = [12, 10, 8];
    const data = Array.from({ length: 12 * 10 * 8 }, (_, v) => Math.sin(v * 0.37) * 40 + (v % 12));
    const input: BrowserInput = { data, shape: dims, affine: Array.from(affine), steps: STEPS };

    const served = await servePage();
    server = served.server;
    browser = await launchChromium();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(served.url);
    await page.waitForFunction(() => typeof window.runPreprocessing === 'function');
    const inPage: BrowserResult = await page.evaluate(
      (value) => window.runPreprocessing(value),
      input,
    );
    assert.deepEqual(pageErrors, []);

    const kernels = await loadImageKernels();
    const volume = new Volume(Float32Array.from(data), dims, affine);
    const inNode = Array.from(runPipeline(kernels, volume, STEPS).data);
    assert.equal(inPage.single.length, 8 * 9 * 6);
    assert.deepEqual(inPage.single, inNode);
    assert.deepEqual(inPage.embedded, inNode);
    assert.equal(inPage.pooled.length, 2);
    assert.deepEqual(inPage.pooled[0], inNode);
    assert.deepEqual(inPage.pooled[1], inNode);
    assert.match(inPage.poolError, /^Preprocessing broken\.nii failed: /);
  });
});
