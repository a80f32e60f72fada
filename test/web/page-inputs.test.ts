import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { zipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';

import { startWebServer, type WebServer } from '../../src/cli/web.js';
import { launchChromium, skipWithoutChromium } from '../helpers/browser.js';
import { finishedState, webFixture, type WebFixture } from './helpers.js';

// Hides navigator.gpu before the page's scripts run. A string, because playwright serialises
// a function with the helpers tsx adds to it, which the page does not define.
const WITHOUT_WEBGPU =
  "Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });";

// Test NIfTI files whose headers nibabel describes in reference_nibabel.json.
const NIFTI_DATA = '/work/shared/data/nifti';

describe('web page inputs', function () {
  this.timeout(300_000);
  let data: WebFixture;
  let web: WebServer | undefined;
  // The same page without a served model, for the checks that need none (it loads faster).
  let bare: WebServer | undefined;
  let browser: Browser | undefined;

  before(async function () {
    skipWithoutChromium(this);
    data = await webFixture();
    web = await startWebServer({ webRoot: data.webRoot, experiment: data.maps, port: 0 });
    bare = await startWebServer({ webRoot: data.webRoot, port: 0 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await bare?.close();
  });

  /** Opens the page and waits until it has started, with the served model unless `withoutModel`. */
  async function openPage(withoutModel = false): Promise<Page> {
    const page = await browser!.newPage();
    await page.goto((withoutModel ? bare : web)!.url);
    const state = await finishedState(page, 1);
    assert.equal(state.error, undefined, state.error?.message);
    return page;
  }

  it('rejects a picked file that is not NIfTI', async () => {
    const page = await openPage(true);
    const buffer = Buffer.from('participant_id\tsession_id\nsub-001\tses-M000\n');
    await page.setInputFiles('#volume-file', { name: 'notes.tsv', mimeType: 'text/plain', buffer });
    const state = await finishedState(page, 2);
    assert.equal(state.error?.name, 'UserError');
    assert.match(state.error!.message, /^notes\.tsv is not a NIfTI or Analyze file: /);
    assert.match(await page.locator('#error').innerText(), /notes\.tsv is not a NIfTI/);
    await page.close();
  });

  it('rejects a dropped file that is not NIfTI', async () => {
    const page = await openPage(true);
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['not an image'], 'readme.txt', { type: 'text/plain' }));
      const target = document.getElementById('viewer')!;
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
    });
    const state = await finishedState(page, 2);
    assert.equal(state.error?.name, 'UserError');
    assert.match(state.error!.message, /^readme\.txt is not a NIfTI or Analyze file: /);
    await page.close();
  });

  it('lists files dropped on the training panel', async () => {
    const page = await openPage(true);
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      for (const name of ['a.nii.gz', 'b.nii']) transfer.items.add(new File(['x'], name));
      const target = document.getElementById('train-panel')!;
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
    });
    const rows = page.locator('#train-list tr');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    const names = await page.locator('#train-list td:first-child').allInnerTexts();
    assert.deepEqual(names, ['a.nii.gz', 'b.nii']);
    // New files alternate between the classes named on the page (CN, AD by default).
    assert.equal(await rows.nth(0).locator('select').inputValue(), 'CN');
    assert.equal(await rows.nth(1).locator('select').inputValue(), 'AD');
    const state = await finishedState(page, 1);
    assert.equal(state.prediction, undefined, 'a drop on the panel runs no prediction');
    await page.close();
  });

  it('keeps training labels by class name', async () => {
    const page = await openPage(true);
    const names = ['a.nii.gz', 'b.nii', 'c.nii'];
    await page.setInputFiles(
      '#train-files',
      names.map((name) => ({
        name,
        mimeType: 'application/octet-stream',
        buffer: Buffer.from('x'),
      })),
    );
    const labels = () =>
      page
        .locator('#train-list select')
        .evaluateAll((selects) => selects.map((select) => (select as HTMLSelectElement).value));
    assert.deepEqual(await labels(), ['CN', 'AD', 'CN']);
    const setClasses = async (text: string) => {
      await page.fill('#classes', text);
      await page.locator('#classes').dispatchEvent('change');
    };
    await setClasses('AD, CN');
    assert.deepEqual(await labels(), ['CN', 'AD', 'CN']);
    await setClasses('CN, MCI, AD');
    assert.deepEqual(await labels(), ['CN', 'AD', 'CN']);
    assert.equal(await page.locator('#train-warning').isVisible(), false);

    await setClasses('CN, MCI');
    assert.deepEqual(await labels(), ['CN', '', 'CN']);
    assert.equal(
      await page.locator('#train-warning').innerText(),
      'b.nii lost its class, which is no longer in Classes: choose one of CN, MCI.',
    );
    await page.locator('#train-list select').nth(1).selectOption('MCI');
    await setClasses('CN, MCI, AD');
    assert.deepEqual(await labels(), ['CN', 'MCI', 'CN']);
    await page.close();
  });

  it('removes and rejects training images', async () => {
    const page = await openPage(true);
    const file = (name: string) => ({ name, mimeType: 'text/plain', buffer: Buffer.from('x') });
    await page.setInputFiles('#train-files', [file('a.nii'), file('notes.txt'), file('b.nii')]);
    const listed = () => page.locator('#train-list td:first-child').allInnerTexts();
    assert.deepEqual(await listed(), ['a.nii', 'b.nii']);
    assert.match(await page.locator('#error').innerText(), /^notes\.txt is not a NIfTI file: /);

    await page.click('#train-list button[aria-label="remove a.nii"]');
    assert.deepEqual(await listed(), ['b.nii']);
    await page.setInputFiles('#train-files', [file('c.nii.gz')]);
    assert.deepEqual(await listed(), ['b.nii', 'c.nii.gz']);
    assert.equal(await page.locator('#error').isVisible(), false);
    await page.click('#clear-train');
    assert.deepEqual(await listed(), []);
    assert.equal(await page.locator('#clear-train').isDisabled(), true);
    await page.close();
  });

  it('loads a dropped zip without file entries', async () => {
    const page = await openPage(true);
    const bytes = [...zipSync({ 'notes.txt': new TextEncoder().encode('no model') })];
    // A DataTransfer built in a script has no file-system entries, as in some browsers.
    await page.evaluate((zip) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(zip)], 'notes.zip'));
      const target = document.getElementById('viewer')!;
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
    }, bytes);
    const state = await finishedState(page, 2);
    assert.equal(state.error?.name, 'UserError');
    assert.match(state.error!.message, /^notes\.zip is not an experiment folder/);
    await page.close();
  });

  it('reads a picked .hdr/.img pair', async () => {
    const page = await openPage();
    const pair = ['ras.hdr', 'ras.img'].map((name) => join(NIFTI_DATA, name));
    await page.setInputFiles('#volume-file', pair);
    // The pair is read, and the model rejects its grid (62 x 41 x 34 voxels) by shape.
    const read = await finishedState(page, 2);
    assert.match(read.error!.message, /^ras\.hdr preprocesses to shape \[/);

    await page.setInputFiles('#volume-file', pair[0]!);
    const alone = await finishedState(page, 3);
    assert.equal(
      alone.error?.message,
      'ras.hdr is one half of a .hdr/.img pair: choose or drop the .hdr and the .img ' +
        'together, or convert the pair to .nii.',
    );
    await page.close();
  });

  it('says when the browser has no WebGPU', async () => {
    const page = await browser!.newPage();
    await page.addInitScript({ content: WITHOUT_WEBGPU });
    await page.goto(web!.url);
    const state = await finishedState(page, 1);
    assert.equal(state.error?.name, 'GpuError');
    assert.match(state.error!.message, /^This browser has no WebGPU/);
    assert.equal(await page.locator('#error').isVisible(), true);
    assert.equal(state.model, undefined);
    await page.close();
  });

  it('loads a zip and a folder by file picker', async () => {
    const page = await openPage();
    const entries: Record<string, Uint8Array> = {};
    for (const entry of readdirSync(data.maps, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      entries[`maps/${relative(data.maps, path)}`] = readFileSync(path);
    }
    const zip = join(data.root, 'picked.zip');
    writeFileSync(zip, zipSync(entries));
    await page.setInputFiles('#model-zip', zip);
    const fromZip = await finishedState(page, 2);
    assert.equal(fromZip.error, undefined, fromZip.error?.message);
    assert.equal(fromZip.model?.source, 'picked.zip');
    assert.equal(fromZip.model?.weightsPath, 'split-0/best-loss/model.safetensors');

    await page.setInputFiles('#model-folder', data.maps);
    const fromFolder = await finishedState(page, 3);
    assert.equal(fromFolder.error, undefined, fromFolder.error?.message);
    assert.equal(fromFolder.model?.source, 'maps');
    assert.deepEqual(fromFolder.model?.inShape, fromZip.model?.inShape);
    await page.close();
  });

  it('rejects a zip that holds no experiment', async () => {
    const page = await openPage();
    const buffer = Buffer.from(zipSync({ 'notes.txt': new TextEncoder().encode('no model') }));
    await page.setInputFiles('#model-zip', {
      name: 'notes.zip',
      mimeType: 'application/zip',
      buffer,
    });
    const state = await finishedState(page, 2);
    assert.equal(state.error?.name, 'UserError');
    assert.match(state.error!.message, /^notes\.zip is not an experiment folder/);
    await page.close();
  });
});
