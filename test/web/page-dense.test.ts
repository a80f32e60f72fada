import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';

import { startWebServer, type WebServer } from '../../src/cli/web.js';
import { readNiftiBytes } from '../../src/data/nifti/web.js';
import { launchChromium, skipWithoutChromium } from '../helpers/browser.js';
import { CROP, writeDenseExperiment } from '../experiment/dense-fixture.js';
import { finishedState, pixelStatistics, webFixture, type WebFixture } from './helpers.js';

const ARTIFACTS = new URL('../../test-artifacts/web/', import.meta.url).pathname;
const VOXELS = CROP[0]! * CROP[1]! * CROP[2]!;
const bytesOf = (values: ArrayLike<number>) => Uint8Array.from(values);

describe('web page dense outputs', function () {
  this.timeout(300_000);
  let data: WebFixture;
  let folders: string;
  let web: WebServer | undefined;
  let browser: Browser | undefined;

  before(async function () {
    skipWithoutChromium(this);
    data = await webFixture();
    folders = mkdtempSync(join(tmpdir(), 'web-dense-'));
    for (const task of ['segmentation', 'reconstruction'] as const) {
      writeDenseExperiment(join(folders, task), task);
    }
    // No experiment served: the page starts without a model and the test picks the folders.
    web = await startWebServer({ webRoot: data.webRoot, port: 0 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    if (folders) rmSync(folders, { recursive: true, force: true });
  });

  /** Opens the page, picks the experiment folder of `task` and runs it on one demo image. */
  async function predictWith(task: string): Promise<{ page: Page; state: PageState }> {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(web!.url);
    const started = await finishedState(page, 1);
    assert.equal(started.model, undefined);
    assert.match(await page.locator('#status').innerText(), /No model served with the page/);
    await page.setInputFiles('#model-folder', join(folders, task));
    const loaded = await finishedState(page, 2);
    assert.equal(loaded.error, undefined, loaded.error?.message);
    assert.equal(loaded.model?.task, task);
    await page.setInputFiles('#volume-file', data.images[2]!);
    const state = await finishedState(page, 3);
    assert.equal(state.error, undefined, state.error?.message);
    return { page, state };
  }

  it('shows segmentation labels', async () => {
    const { page, state } = await predictWith('segmentation');
    const prediction = state.prediction!;
    assert.equal(prediction.overlay?.kind, 'labels');
    const image = await readNiftiBytes(bytesOf(prediction.image.bytes), { name: 'image' });
    const labels = await readNiftiBytes(bytesOf(prediction.overlay!.bytes), { name: 'labels' });
    assert.deepEqual(labels.shape, [...CROP]);
    assert.deepEqual(Array.from(labels.affine), Array.from(image.affine));
    // Channel 0 is 0 and channel 1 copies the z-scored input: label 1 where the input is > 0.
    let mismatches = 0;
    let foreground = 0;
    for (let v = 0; v < VOXELS; v++) {
      if (labels.data[v] !== (image.data[v]! > 0 ? 1 : 0)) mismatches += 1;
      foreground += labels.data[v]!;
    }
    assert.equal(mismatches, 0);
    assert.ok(foreground > 0, 'some voxels are foreground');
    assert.ok(foreground < VOXELS, 'some voxels are background');
    await page.waitForTimeout(500);
    const png = await page.locator('#viewer-canvas').screenshot();
    // This file may run first on a fresh clone, before any other test made the folder.
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'viewer-labels.png'), png);
    const stats = await pixelStatistics(page, png);
    assert.ok(stats.luminanceStd > 20, `luminance std ${stats.luminanceStd}`);
    await page.close();
  });

  it('shows the reconstruction', async () => {
    const { page, state } = await predictWith('reconstruction');
    const prediction = state.prediction!;
    assert.equal(prediction.overlay?.kind, 'reconstruction');
    const image = await readNiftiBytes(bytesOf(prediction.image.bytes), { name: 'image' });
    const output = await readNiftiBytes(bytesOf(prediction.overlay!.bytes), { name: 'output' });
    // The network copies its input, so the reconstruction is the preprocessed image.
    assert.deepEqual(output.data, image.data);
    assert.deepEqual(prediction.output.slice(0, 5), Array.from(image.data.slice(0, 5)));
    await page.close();
  });
});

type PageState = Awaited<ReturnType<typeof finishedState>>;
