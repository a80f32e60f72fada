import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { bundleBrowser, ROOT } from '../../scripts/build.mjs';
import { acquireGpu } from '../../src/runtime/index.js';
import { runSmokeKernel, smokeInput } from '../../src/web/smoke/kernel.js';
import type { SmokeResult } from '../../src/web/smoke/main.js';
import {
  addBundle,
  launchChromium,
  serveFiles,
  skipWithoutChromium,
  type ServedFile,
} from '../helpers/browser.js';

const SMOKE_DIR = join(ROOT, 'src/web/smoke');
// Not a multiple of the workgroup size (64), so the kernel's bounds guard is exercised.
const LENGTH = 64 * 64 + 29;

/** Bundles the smoke page and serves it on 127.0.0.1 at an ephemeral port. */
async function serveSmokePage() {
  const bundle = await bundleBrowser({
    entryPoints: [join(SMOKE_DIR, 'main.ts')],
    outdir: join(ROOT, 'build/smoke'),
    write: false,
  });
  const files = new Map<string, ServedFile>();
  files.set('/', { type: 'text/html', body: readFileSync(join(SMOKE_DIR, 'index.html'), 'utf8') });
  addBundle(files, bundle.outputFiles ?? []);
  return serveFiles(files);
}

describe('browser runtime smoke test', function () {
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

  it('runs one kernel with the same numbers as Node', async () => {
    const served = await serveSmokePage();
    server = served.server;
    browser = await launchChromium();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(served.url);
    await page.waitForFunction(() => typeof window.runSmoke === 'function');
    const inPage: SmokeResult = await page.evaluate((length) => window.runSmoke(length), LENGTH);
    assert.deepEqual(pageErrors, []);

    const gpu = await acquireGpu();
    const inNode = await runSmokeKernel(gpu, smokeInput(LENGTH)).finally(() => gpu.destroy());
    assert.match(inPage.adapter, /\S/, 'the page names its adapter');
    assert.equal(inPage.y.length, LENGTH);
    assert.deepEqual(inPage.y, inNode.y);
    assert.deepEqual(inPage.hash, inNode.hash);
    // The values are those of the formula, not only equal between the two runs.
    const input = smokeInput(LENGTH);
    assert.equal(inNode.y[LENGTH - 1], input[LENGTH - 1]! * 0.5 + (LENGTH - 1));
  });
});
