import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { zipSync } from 'fflate';

import { startWebServer, type WebServer } from '../../src/cli/web.js';
import {
  blobExperimentFiles,
  experimentFiles,
  urlExperimentFiles,
} from '../../src/web/experiment-source.js';

const CONFIG = '{"mapsVersion": 1, "model": {"name": "SupervisedModel"}}';
const WEIGHTS = Uint8Array.from([1, 2, 3, 250]);

describe('web experiment sources', () => {
  let root: string;
  let web: WebServer;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'web-source-'));
    const maps = join(root, 'maps');
    mkdirSync(join(maps, 'split-0', 'best loss'), { recursive: true });
    writeFileSync(join(maps, 'experiment.json'), CONFIG);
    writeFileSync(join(maps, 'split-0', 'best loss', 'model.safetensors'), WEIGHTS);
    writeFileSync(join(maps, 'latin1.txt'), Uint8Array.of(0xe9));
    const webRoot = join(root, 'web');
    mkdirSync(webRoot);
    writeFileSync(join(webRoot, 'index.html'), '');
    writeFileSync(join(webRoot, 'main.js'), '');
    web = await startWebServer({ webRoot, experiment: maps, port: 0 });
  });

  after(async () => {
    await web?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads a served folder', async () => {
    const files = await urlExperimentFiles(new URL('experiment/', web.url).href, 'served');
    assert.equal(files.has('experiment.json'), true);
    assert.equal(files.has('./split-0/best loss/model.safetensors'), true);
    assert.equal(files.has('split-0'), false);
    assert.equal(await files.readText('experiment.json'), CONFIG);
    assert.deepEqual(await files.readBytes('split-0/best loss/model.safetensors'), WEIGHTS);
  });

  it('rejects what a served folder lacks', async () => {
    const files = await urlExperimentFiles(new URL('experiment/', web.url).href, 'served');
    await assert.rejects(files.readBytes('missing.json'), {
      name: 'UserError',
      message: "served has no file 'missing.json'.",
    });
    await assert.rejects(files.readText('latin1.txt'), {
      name: 'UserError',
      message: "served: 'latin1.txt' is not UTF-8 text.",
    });
    await assert.rejects(files.readText('../secret'), { name: 'UserError', message: /'\.\.'/ });
  });

  it('rejects a URL that serves no folder', async () => {
    await assert.rejects(urlExperimentFiles(new URL('elsewhere/', web.url).href, 'x'), {
      name: 'UserError',
      message: /^No experiment is served at .*elsewhere\/ \(.*files\.json returned HTTP 404\)/,
    });
  });

  it('reads picked files and a zip alike', async () => {
    const picked = blobExperimentFiles(
      [
        { path: 'experiment.json', file: new Blob([CONFIG]) },
        { path: 'split-0/w.safetensors', file: new Blob([WEIGHTS]) },
      ],
      'picked',
    );
    const zip = new Blob([zipSync({ 'maps/experiment.json': new TextEncoder().encode(CONFIG) })]);
    const zipped = await experimentFiles({ kind: 'zip', file: zip, name: 'maps.zip' });
    assert.equal(await picked.readText('experiment.json'), CONFIG);
    assert.equal(await zipped.readText('experiment.json'), CONFIG);
    assert.deepEqual(await picked.readBytes('split-0/w.safetensors'), WEIGHTS);
    assert.equal(picked.has('split-0/other'), false);
    await assert.rejects(picked.readBytes('split-0/other'), { name: 'UserError' });
  });

  it('rejects bytes that are not a zip', async () => {
    const file = new Blob(['plain text']);
    await assert.rejects(experimentFiles({ kind: 'zip', file, name: 'notes.zip' }), {
      name: 'UserError',
      message: /^notes\.zip is not a valid zip archive/,
    });
  });
});
