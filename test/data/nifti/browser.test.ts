// The browser-safe NIfTI module run in headless Chromium: Blob sources, DecompressionStream and
// CompressionStream must give the same volumes as the Node reader. Skipped without Chromium.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'mocha';
import type { Browser, Page } from 'playwright-core';

import { bundleBrowser, ROOT } from '../../../scripts/build.mjs';
import { readNifti } from '../../../src/data/nifti/node.js';
import type { BrowserReading, NiftiPageApi } from './browser-entry.js';
import { digestOf } from './digest.js';
import { launchChromium, skipWithoutChromium } from '../../helpers/browser.js';

const FIXTURES = join(ROOT, 'test/fixtures/nifti');

function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

describe('NIfTI module in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    skipWithoutChromium(this);
    const bundle = await bundleBrowser({
      entryPoints: [join(ROOT, 'test/data/nifti/browser-entry.ts')],
      outdir: join(ROOT, 'build/nifti-browser-test'),
      write: false,
    });
    const script = bundle.outputFiles!.find((file) => file.path.endsWith('.js'))!.text;
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setContent(
      `<script type="module">${script.replaceAll('</script', '<\\/script')}</script>`,
    );
    await page.waitForFunction(() => 'niftiPage' in globalThis);
  });

  after(async () => {
    await browser?.close();
  });

  function decodeInPage(
    bytes: Uint8Array,
    name: string,
    image?: Uint8Array,
  ): Promise<BrowserReading> {
    const args = [
      base64Of(bytes),
      name,
      image === undefined ? undefined : base64Of(image),
    ] as const;
    return page.evaluate(
      ([data, fileName, imageData]) =>
        (globalThis as unknown as { niftiPage: NiftiPageApi }).niftiPage.decode(
          data,
          fileName,
          imageData,
        ),
      args,
    );
  }

  const files: [string, string?][] = [
    ['someones_anatomy.nii.gz'],
    ['big.nii.gz'],
    ['functional.nii'],
    ['example_nifti2.nii.gz'],
    ['air.hdr.gz', 'air.img.gz'],
  ];
  for (const [name, image] of files) {
    it(`decodes ${name} as Node does`, async () => {
      const expected = await readNifti(join(FIXTURES, name));
      const imageBytes = image === undefined ? undefined : readFileSync(join(FIXTURES, image));
      const reading = await decodeInPage(readFileSync(join(FIXTURES, name)), name, imageBytes);
      assert.equal(reading.error, undefined);
      assert.deepEqual(reading.shape, expected.shape);
      assert.deepEqual(reading.affine, Array.from(expected.affine));
      assert.equal(reading.digest, digestOf(expected.data));
    });
  }

  it('inflates a multi-member gzip file', async () => {
    // bgzip-like: the inflated file cut into three gzip members of about 72 kB.
    const name = 'someones_anatomy.nii.gz';
    const expected = await readNifti(join(FIXTURES, name));
    const raw = gunzipSync(readFileSync(join(FIXTURES, name)));
    const cuts = [0, 72_000, 144_000, raw.length];
    const members = cuts.slice(1).map((end, index) => gzipSync(raw.subarray(cuts[index], end)));
    const reading = await decodeInPage(Buffer.concat(members), 'members.nii.gz');
    assert.equal(reading.error, undefined);
    assert.equal(reading.digest, digestOf(expected.data));
  });

  it('rejects a wrong gzip checksum', async () => {
    const compressed = Uint8Array.from(readFileSync(join(FIXTURES, 'someones_anatomy.nii.gz')));
    compressed[compressed.length - 8]! ^= 0xff;
    const reading = await decodeInPage(compressed, 'checksum.nii.gz');
    assert.match(
      reading.error ?? '',
      /^UserError: checksum\.nii\.gz: the gzip stream is truncated or corrupt/,
    );
  });

  it('rejects a cut gzip stream', async () => {
    const compressed = readFileSync(join(FIXTURES, 'someones_anatomy.nii.gz'));
    const reading = await decodeInPage(compressed.subarray(0, 50_000), 'cut.nii.gz');
    assert.match(
      reading.error ?? '',
      /^UserError: cut\.nii\.gz: the gzip stream is truncated or corrupt/,
    );
  });

  it('writes .nii.gz that reads back', async () => {
    const name = 'avg152T1_LR_nifti.nii.gz';
    const expected = await readNifti(join(FIXTURES, name));
    const bytes = base64Of(readFileSync(join(FIXTURES, name)));
    const reading = await page.evaluate(
      ([data, fileName]) =>
        (globalThis as unknown as { niftiPage: NiftiPageApi }).niftiPage.roundTrip(data, fileName),
      [bytes, name] as const,
    );
    assert.deepEqual(reading.shape, expected.shape);
    assert.equal(reading.digest, digestOf(expected.data));
    reading.affine!.forEach((value, index) =>
      assert.ok(Math.abs(value - expected.affine[index]!) < 1e-6),
    );
  });
});
