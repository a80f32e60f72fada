import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser } from 'playwright-core';

import { startWebServer, type WebServer } from '../../src/cli/web.js';
import { runCli } from '../cli/helpers.js';
import { launchChromium, skipWithoutChromium } from '../helpers/browser.js';
import {
  finishedState,
  maxDifference,
  OUTPUT_TOLERANCE,
  predictInNode,
  webFixture,
  type WebFixture,
} from './helpers.js';

// The maximum stall of the page's main thread while the worker trains. Compiling and training
// the demo network took 18 s on SwiftShader here (2 shared cores under load), with a longest
// stall of 93 ms. The page only draws the loss curve, but a loaded machine can delay its timers.
const MAX_MAIN_THREAD_GAP_MS = 3000;

describe('web page training', function () {
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

  it('rejects training it cannot run', async () => {
    const page = await browser!.newPage();
    await page.goto(web!.url);
    await finishedState(page, 1);
    await page.click('#train');
    const none = await finishedState(page, 2);
    assert.equal(none.error?.message, 'Add at least one labelled NIfTI image to train on.');

    await page.setInputFiles('#train-files', data.images.slice(0, 1));
    await page.locator('#train-list select').selectOption('AD');
    await page.fill('#classes', 'CN, MCI, AD');
    await page.click('#train');
    const classes = await finishedState(page, 3);
    assert.equal(
      classes.error?.message,
      'The network of the loaded model has 2 class outputs, but 3 classes are given (CN, MCI, ' +
        'AD). The loaded network fixes the number of outputs, also when training from scratch: ' +
        'name 2 classes, or load a model whose network has 3 outputs.',
    );

    // The image whose class left the list is named, and training without a label is rejected.
    await page.fill('#classes', 'CN, MCI');
    await page.locator('#classes').dispatchEvent('change');
    const name = data.images[0]!.split('/').pop()!;
    const warning = await page.locator('#train-warning').innerText();
    assert.ok(warning.startsWith(`${name} lost its class`), warning);
    await page.click('#train');
    const unlabelled = await finishedState(page, 4);
    assert.equal(unlabelled.error?.message, `${name} has no valid label: choose one of CN, MCI.`);

    await page.fill('#classes', 'CN, AD');
    await page.fill('#epochs', '');
    await page.click('#train');
    const empty = await finishedState(page, 5);
    assert.equal(empty.error?.message, 'The Epochs field is empty: enter a number.');
    await page.close();
  });

  it('trains a model that Node loads and predicts alike', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(web!.url);
    await finishedState(page, 1);
    assert.equal(await page.locator('#loss-chart').isVisible(), false);
    await page.setInputFiles('#train-files', data.images.slice(0, 4));
    const selects = page.locator('#train-list select');
    assert.equal(await selects.count(), 4);
    for (let index = 0; index < 4; index++) {
      await selects.nth(index).selectOption(data.labels[index]!);
    }
    await page.fill('#epochs', '2');
    // A timer on the page's main thread records its longest delay while the worker trains.
    await page.evaluate(() => {
      const record = window as unknown as { longestGap: number };
      record.longestGap = 0;
      let last = performance.now();
      setInterval(() => {
        const now = performance.now();
        record.longestGap = Math.max(record.longestGap, now - last);
        last = now;
      }, 50);
    });
    await page.click('#train');
    const trained = await finishedState(page, 2);
    assert.equal(trained.error, undefined, trained.error?.message);
    // Training on the main thread would stop the timer for the whole run.
    const longestGap = await page.evaluate(
      () => (window as unknown as { longestGap: number }).longestGap,
    );
    assert.ok(longestGap < MAX_MAIN_THREAD_GAP_MS, `the main thread stalled for ${longestGap} ms`);
    assert.deepEqual(
      trained.history.map((epoch) => epoch.epoch),
      [1, 2],
    );
    for (const epoch of trained.history) {
      assert.ok(Number.isFinite(epoch.loss), `training loss ${epoch.loss}`);
      assert.ok(Number.isFinite(epoch.validationLoss), `validation loss ${epoch.validationLoss}`);
    }
    assert.equal(trained.model?.source, 'the experiment trained in the page');
    assert.equal(await page.locator('#loss-chart').isVisible(), true);

    // A Train click that fails validation keeps the last run's loss curve.
    await page.fill('#learning-rate', '');
    await page.click('#train');
    const rejected = await finishedState(page, 3);
    assert.equal(rejected.error?.message, 'The Learning rate field is empty: enter a number.');
    assert.deepEqual(rejected.history, trained.history);
    assert.equal(await page.locator('#loss-chart').isVisible(), true);

    const download = page.waitForEvent('download');
    await page.click('#save');
    const zip = join(data.root, 'trained.zip');
    await (await download).saveAs(zip);
    await finishedState(page, 4);

    // The prediction is request 5; the saliency map that follows it is not needed here.
    await page.setInputFiles('#volume-file', data.images[5]!);
    const state = await finishedState(page, 5);
    assert.equal(state.error, undefined, state.error?.message);
    const predicted = state.prediction!;
    const node = await predictInNode(zip, data.images[5]!);
    const difference = maxDifference(predicted.output, node.output);
    assert.ok(difference <= OUTPUT_TOLERANCE, `output differs by ${difference}`);

    // The CLI's predict reads the zip too and writes the same class probabilities.
    const output = join(data.root, 'trained-predict');
    const run = await runCli('predict', zip, data.images[5]!, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    const [header, row] = readFileSync(join(output, 'predictions.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    const column = (name: string) => row![header!.indexOf(name)]!;
    assert.equal(column('predicted_label'), predicted.classes[predicted.predictedClass!]);
    predicted.classes.forEach((name, index) => {
      const fromCli = Number(column(`probability_${name}`));
      const gap = Math.abs(fromCli - predicted.probabilities![index]!);
      assert.ok(gap <= OUTPUT_TOLERANCE, `probability of ${name} differs by ${gap}`);
    });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
