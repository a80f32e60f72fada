import assert from 'node:assert/strict';

import type { Browser, Page } from 'playwright-core';

import { startWebServer, type WebServer } from '../../src/cli/web.js';
import { launchChromium, skipWithoutChromium } from '../helpers/browser.js';
import { finishedState, pixelStatistics, webFixture, type WebFixture } from './helpers.js';

// The window size of a small laptop screen, on which the viewer must fit.
const VIEWPORT = { width: 1280, height: 720 };

describe('web page layout', function () {
  this.timeout(300_000);
  let data: WebFixture;
  let web: WebServer | undefined;
  let browser: Browser | undefined;

  before(async function () {
    skipWithoutChromium(this);
    data = await webFixture();
    web = await startWebServer({ webRoot: data.webRoot, experiment: data.maps, port: 0 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
  });

  async function openPage(): Promise<Page> {
    const page = await browser!.newPage({ viewport: VIEWPORT });
    await page.goto(web!.url);
    const state = await finishedState(page, 1);
    assert.equal(state.error, undefined, state.error?.message);
    return page;
  }

  it('shows the model and hides placeholders', async () => {
    const page = await openPage();
    const state = await finishedState(page, 1);
    assert.equal(
      await page.locator('#status').innerText(),
      `Model: ${state.model!.network} (${state.model!.task})`,
    );
    assert.equal(await page.locator('#prediction').isVisible(), false);
    assert.equal(await page.locator('#loss-chart').isVisible(), false);
    await page.close();
  });

  it('fits the viewer in the window', async () => {
    const page = await openPage();
    // Images in the training list make the controls column taller than the window.
    const files = Array.from({ length: 30 }, (_, index) => ({
      name: `image-${index}.nii`,
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('x'),
    }));
    await page.setInputFiles('#train-files', files);
    const box = await page.locator('#viewer-canvas').boundingBox();
    assert.ok(box !== null);
    assert.ok(box.y + box.height <= VIEWPORT.height, `canvas ends at ${box.y + box.height} px`);
    assert.ok(box.height >= VIEWPORT.height / 2, `canvas height ${box.height} px`);
    const pageHeight = await page.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(pageHeight <= VIEWPORT.height, `page height ${pageHeight} px`);
    await page.close();
  });

  it('clears the prediction after a failed one', async () => {
    const page = await openPage();
    // Request 2 is the prediction and request 3 its saliency map.
    await page.setInputFiles('#volume-file', data.images[0]!);
    const predicted = await finishedState(page, 3);
    assert.equal(predicted.error, undefined, predicted.error?.message);
    assert.equal(await page.locator('#prediction').isVisible(), true);
    const shown = await pixelStatistics(page, await page.locator('#viewer-canvas').screenshot());

    const buffer = Buffer.from('not an image');
    await page.setInputFiles('#volume-file', { name: 'notes.nii', mimeType: 'text/plain', buffer });
    const failed = await finishedState(page, 4);
    assert.match(failed.error!.message, /^notes\.nii is not a NIfTI or Analyze file/);
    assert.equal(failed.prediction, undefined);
    assert.equal(await page.locator('#prediction').isVisible(), false);
    // The cleared viewer shows only its background and the hint text.
    const cleared = await pixelStatistics(page, await page.locator('#viewer-canvas').screenshot());
    assert.ok(
      cleared.litShare < shown.litShare / 4,
      `lit share ${cleared.litShare} after clearing, ${shown.litShare} before`,
    );
    await page.close();
  });
});
