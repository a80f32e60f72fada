import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';

import { startWebServer, type WebServer } from '../../src/cli/web.js';
import { readNiftiBytes } from '../../src/data/nifti/web.js';
import { launchChromium, skipWithoutChromium } from '../helpers/browser.js';
import {
  finishedState,
  maxDifference,
  OUTPUT_TOLERANCE,
  pixelStatistics,
  predictInNode,
  webFixture,
  type WebFixture,
} from './helpers.js';

// Screenshots of the viewer are kept here for people to look at (git ignores the folder).
const ARTIFACTS = new URL('../../test-artifacts/web/', import.meta.url).pathname;

// The saliency map is a backward pass through the same kernels: relative to its largest
// value, the same bound as the class scores.
const SALIENCY_TOLERANCE = 1e-4;

const bytesOf = (values: ArrayLike<number>) => Uint8Array.from(values);

describe('web page inference', function () {
  this.timeout(300_000);
  let data: WebFixture;
  let web: WebServer | undefined;
  let browser: Browser | undefined;

  before(async function () {
    skipWithoutChromium(this);
    data = await webFixture();
    web = await startWebServer({ webRoot: data.webRoot, experiment: data.maps, port: 0 });
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await web?.close();
  });

  it('predicts like Node and shows the overlay', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(web!.url);
    const loaded = await finishedState(page, 1);
    assert.equal(loaded.error, undefined, loaded.error?.message);
    assert.equal(loaded.model?.task, 'classification');
    assert.deepEqual(loaded.model?.classes, ['CN', 'AD']);

    await page.setInputFiles('#volume-file', data.images[0]!);
    const predicted = await finishedState(page, 2);
    assert.equal(predicted.error, undefined, predicted.error?.message);
    assert.equal(predicted.prediction?.overlay, undefined, 'saliency is a second request');
    const state = await finishedState(page, 3);
    assert.equal(state.error, undefined, state.error?.message);
    const prediction = state.prediction!;
    assert.equal(prediction.overlay?.kind, 'saliency');

    const node = await predictInNode(data.maps, data.images[0]!, prediction.predictedClass);
    const image = await readNiftiBytes(bytesOf(prediction.image.bytes), { name: 'input.nii' });
    assert.deepEqual(image.data, node.input, 'the Wasm preprocessing gives the same bits');
    const outputDifference = maxDifference(prediction.output, node.output);
    assert.ok(outputDifference <= OUTPUT_TOLERANCE, `output differs by ${outputDifference}`);
    const probabilities = prediction.probabilities!;
    assert.ok(Math.abs(probabilities[0]! + probabilities[1]! - 1) < 1e-6);
    const table = await page.locator('#probabilities tbody').innerText();
    assert.match(table, new RegExp(`CN\\s+${probabilities[0]!.toFixed(4)}`));

    const overlay = await readNiftiBytes(bytesOf(prediction.overlay!.bytes), { name: 'overlay' });
    const scale = node.saliency!.reduce((max, value) => Math.max(max, value), 0);
    assert.ok(scale > 0, 'the saliency map is not all zero');
    const saliencyDifference = maxDifference(overlay.data, node.saliency!) / scale;
    assert.ok(
      saliencyDifference <= SALIENCY_TOLERANCE,
      `saliency differs by ${saliencyDifference}`,
    );

    // niivue draws on the next animation frames after the volumes are added.
    await page.waitForTimeout(500);
    const png = await page.locator('#viewer-canvas').screenshot();
    writeFileSync(join(ARTIFACTS, 'viewer-saliency.png'), png);
    const stats = await pixelStatistics(page, png);
    assert.ok(stats.pixels > 100_000, `screenshot has ${stats.pixels} pixels`);
    assert.ok(stats.luminanceStd > 20, `luminance std ${stats.luminanceStd}`);
    assert.ok(stats.greyShare > 0.05, `grey (image) share ${stats.greyShare}`);
    assert.ok(stats.warmShare > 0.005, `warm (overlay) share ${stats.warmShare}`);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
