import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { bundleBrowser, ROOT } from '../../scripts/build.mjs';
import { acquireGpu } from '../../src/runtime/index.js';
import { runSmokeKernel, smokeInput } from '../../src/web/smoke/kernel.js';
import type { SmokeResult } from '../../src/web/smoke/main.js';

const CHROMIUM = '/usr/bin/chromium';
const SMOKE_DIR = join(ROOT, 'src/web/smoke');
// Flags under which Debian's headless chromium exposes WebGPU on SwiftShader (Vulkan on the
// CPU) on a machine without a GPU; checked with chromium 156 on Debian 12.
const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];
// Not a multiple of the workgroup size (64), so the kernel's bounds guard is exercised.
const LENGTH = 64 * 64 + 29;

/** Bundles the smoke page and serves it on 127.0.0.1 at an ephemeral port. */
async function serveSmokePage(): Promise<Server> {
  const bundle = await bundleBrowser({
    entryPoints: [join(SMOKE_DIR, 'main.ts')],
    outdir: join(ROOT, 'build/smoke'),
    write: false,
  });
  const files = new Map<string, { type: string; body: string | Uint8Array }>();
  files.set('/', { type: 'text/html', body: readFileSync(join(SMOKE_DIR, 'index.html'), 'utf8') });
  for (const file of bundle.outputFiles ?? []) {
    const name = `/${file.path.split('/').at(-1)}`;
    files.set(name, {
      type: name.endsWith('.js') ? 'text/javascript' : 'application/json',
      body: file.contents,
    });
  }
  const server = createServer((request, response) => {
    const file = files.get(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    response.writeHead(file ? 200 : 404, { 'content-type': file?.type ?? 'text/plain' });
    response.end(file?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('browser runtime smoke test', function () {
  this.timeout(120_000);
  let server: Server | undefined;
  let browser: Browser | undefined;

  before(function () {
    if (!existsSync(CHROMIUM)) {
      console.log(
        `    skipped: ${CHROMIUM} is missing; \`npm run setup\` installs Debian's chromium`,
      );
      this.skip();
    }
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('runs one kernel with the same numbers as Node', async () => {
    server = await serveSmokePage();
    const { port } = server.address() as AddressInfo;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${port}/`);
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
