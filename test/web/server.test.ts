import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { listFiles, runWeb, startWebServer, type WebServer } from '../../src/cli/web.js';
import { Capture, runCli } from '../cli/helpers.js';

const EXPERIMENT_JSON = JSON.stringify({ mapsVersion: 1, model: { name: 'SupervisedModel' } });
const WEIGHTS = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);

describe('web server', () => {
  let root: string;
  let webRoot: string;
  let experiment: string;
  const servers: WebServer[] = [];

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'web-server-'));
    webRoot = join(root, 'web');
    mkdirSync(webRoot);
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(webRoot, 'main.js'), 'export {};');
    experiment = join(root, 'maps');
    mkdirSync(join(experiment, 'split-0', 'best-loss'), { recursive: true });
    writeFileSync(join(experiment, 'experiment.json'), EXPERIMENT_JSON);
    writeFileSync(join(experiment, 'split-0', 'best-loss', 'model.safetensors'), WEIGHTS);
    writeFileSync(join(root, 'secret.txt'), 'outside the served folders');
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    rmSync(root, { recursive: true, force: true });
  });

  async function start(): Promise<WebServer> {
    const server = await startWebServer({ webRoot, experiment, port: 0 });
    servers.push(server);
    return server;
  }

  it('binds the loopback address by default', async () => {
    const { server, url } = await start();
    assert.equal((server.address() as AddressInfo).address, '127.0.0.1');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the page, the file list and the files', async () => {
    const { url } = await start();
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(await page.text(), '<!doctype html><title>page</title>');
    const script = await fetch(new URL('main.js', url));
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);

    const list = await fetch(new URL('experiment/files.json', url));
    assert.deepEqual(await list.json(), {
      files: ['experiment.json', 'split-0/best-loss/model.safetensors'],
    });
    const weights = await fetch(new URL('experiment/split-0/best-loss/model.safetensors', url));
    assert.equal(weights.status, 200);
    assert.deepEqual(new Uint8Array(await weights.arrayBuffer()), WEIGHTS);
  });

  const rejected: [string, string, number][] = [
    ['a missing file', 'nothing.js', 404],
    ['a folder', 'experiment/split-0', 404],
    ['a path above the page', '..%2Fsecret.txt', 404],
    ['a path above the experiment', 'experiment/..%2F..%2Fsecret.txt', 404],
    ['an encoded slash pair', 'experiment/%2E%2E/%2E%2E/secret.txt', 404],
    ['a malformed escape', 'experiment/%E0%A4%A', 404],
  ];
  for (const [name, path, status] of rejected) {
    it(`returns ${status} for ${name}`, async () => {
      const { url } = await start();
      const response = await fetch(`${url}${path}`);
      assert.equal(response.status, status);
      assert.doesNotMatch(await response.text(), /outside the served folders/);
    });
  }

  it('rejects methods other than GET and HEAD', async () => {
    const { url } = await start();
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '34');
    const post = await fetch(url, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
  });

  it('serves no experiment when none is given', async () => {
    const server = await startWebServer({ webRoot, port: 0 });
    servers.push(server);
    const list = await fetch(new URL('experiment/files.json', server.url));
    assert.equal(list.status, 404);
  });

  it('rejects a port in use', async () => {
    const { server } = await start();
    const { port } = server.address() as AddressInfo;
    await assert.rejects(startWebServer({ webRoot, experiment, port }), {
      name: 'UserError',
      message: `Port ${port} on 127.0.0.1 is in use; choose another with --port.`,
    });
  });

  it('rejects a missing build', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    await assert.rejects(startWebServer({ webRoot: empty, experiment, port: 0 }), {
      name: 'UserError',
      message: /is not built: .*index\.html or main\.js is missing\. Run `npm run build` first\./,
    });
  });

  it('prints the URL and stops when asked', async () => {
    const stdout = new Capture();
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = runWeb({ webRoot, experiment, port: 0 }, stdout, stopped);
    for (let wait = 0; wait < 100 && !stdout.text.includes('Open '); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const url = /Open (http:\/\/127\.0\.0\.1:\d+\/) in a browser/.exec(stdout.text)?.[1];
    assert.ok(url !== undefined, stdout.text);
    assert.match(stdout.text, new RegExp(`^Serving the experiment folder ${experiment}\n`));
    const page = await fetch(url, { keepalive: true });
    assert.equal(page.status, 200);
    stop();
    await running;
    assert.match(stdout.text, /Server stopped\.\n$/);
    await assert.rejects(fetch(url), TypeError);
  });

  it('lists nested files relative to the folder', async () => {
    assert.deepEqual(await listFiles(experiment), [
      'experiment.json',
      'split-0/best-loss/model.safetensors',
    ]);
  });
});

describe('cli web', () => {
  let root: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'cli-web-'));
    mkdirSync(join(root, 'not-maps'));
    mkdirSync(join(root, 'bad-json'));
    writeFileSync(join(root, 'bad-json', 'experiment.json'), '{ "model": ');
    mkdirSync(join(root, 'no-model'));
    writeFileSync(join(root, 'no-model', 'experiment.json'), '{ "mapsVersion": 1 }');
    writeFileSync(join(root, 'file.txt'), 'a file');
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  const cases: [string, string[], RegExp][] = [
    ['a missing folder', ['missing'], /error: The experiment folder '.*missing' does not exist/],
    ['a file', ['file.txt'], /error: The experiment folder '.*file\.txt' does not exist or is/],
    ['a folder without experiment.json', ['not-maps'], /is not an experiment folder: .* missing/],
    ['invalid experiment.json', ['bad-json'], /experiment\.json is not valid JSON: /],
    ['experiment.json without a model', ['no-model'], /has no 'model' object/],
    ['a port out of range', ['--port', '70000'], /'--port <n>' argument '70000' is invalid/],
  ];
  for (const [name, args, message] of cases) {
    it(`exits 1 for ${name}`, async () => {
      const paths = args.map((arg) =>
        arg.startsWith('-') || /^\d+$/.test(arg) ? arg : join(root, arg),
      );
      const run = await runCli('web', ...paths);
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    });
  }

  it('describes its options in --help', async () => {
    const run = await runCli('web', '--help');
    assert.equal(run.status, 0);
    for (const option of ['--port <n>', '--host <address>', '[experiment-folder]']) {
      assert.ok(run.stdout.includes(option), `help mentions ${option}`);
    }
    assert.match(run.stdout, /127\.0\.0\.1/);
  });
});
