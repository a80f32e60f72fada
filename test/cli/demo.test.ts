import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { QUICK_SIZES, demoConfigPath } from '../../src/cli/demo.js';
import { applyOverrides, parseExperimentConfig } from '../../src/cli/train-config.js';
import { runCli } from './helpers.js';

const ROOT = new URL('../../', import.meta.url);
const readText = (path: string) => readFileSync(path, 'utf8');

/** Returns the shell commands of the README's code blocks in order, without comments. */
function readmeCommands(): string[] {
  const readme = readText(new URL('README.md', ROOT).pathname);
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

describe('cli demo', function () {
  // Compiling the GPU pipelines can take minutes on lavapipe when the machine is loaded.
  this.timeout(300_000);
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'cli-demo-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('runs the quick demo end to end and writes report.html', async () => {
    const run = await runCli('demo', '--quick', '--output', root);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /8 images of \d+x\d+x\d+ voxels/);
    assert.match(run.stdout, /epoch 2\/2 /);
    const maps = join(root, 'maps');
    const metrics = JSON.parse(readText(join(maps, 'split-0', 'test', 'metrics.json')));
    for (const name of ['loss', 'accuracy', 'balancedAccuracy', 'rocAuc']) {
      assert.match(run.stdout, new RegExp(`${name} +${metrics[name].toFixed(4)}`), name);
    }
    const reportPath = join(maps, 'report.html');
    assert.match(run.stdout, new RegExp(`Report: ${reportPath}`));
    const html = readText(reportPath);
    for (const id of ['plot-loss', 'plot-metrics', 'plot-roc', 'confusion', 'metrics']) {
      assert.match(html, new RegExp(`id="${id}"`), id);
    }
    const balanced = metrics.balancedAccuracy.toFixed(4);
    assert.match(html, new RegExp(`<th>balancedAccuracy</th><td>${balanced}</td>`));
    const cells = [...html.matchAll(/<td class="cell">(\d+)<\/td>/g)].map((m) => Number(m[1]));
    assert.equal(cells.length, 4);
    assert.equal(
      cells.reduce((a, b) => a + b, 0),
      2,
      'the 2 test images',
    );
    assert.equal(html.match(/<img class="slice"/g)?.length, 6, '3 slices of 2 test images');
    const data = JSON.parse(html.match(/type="application\/json">(.*?)<\/script>/)![1]!);
    assert.equal(data.curves['train loss'].length, 2);
  });

  it('replaces its own experiment on a second run', async () => {
    const stale = join(root, 'maps', 'split-0', 'stale.txt');
    writeFileSync(stale, 'from an earlier run\n');
    const run = await runCli('demo', '--quick', '--output', root);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(existsSync(stale), false);
    assert.ok(existsSync(join(root, 'maps', 'report.html')));
  });

  it('rejects a maps folder of other files', async () => {
    const output = join(root, 'other');
    mkdirSync(join(output, 'maps'), { recursive: true });
    writeFileSync(join(output, 'maps', 'notes.txt'), 'my notes\n');
    const run = await runCli('demo', '--quick', '--output', output);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /maps is not empty and contains no experiment/);
    assert.doesNotMatch(run.stdout, /Generating a trivial dataset/);
    assert.equal(readText(join(output, 'maps', 'notes.txt')), 'my notes\n');
  });

  it('trains examples/demo.json with the quick overrides', () => {
    const raw = JSON.parse(readText(demoConfigPath()));
    const config = parseExperimentConfig(applyOverrides(raw, QUICK_SIZES.overrides));
    assert.equal(config.network.name, 'CNN');
    assert.equal(config.trainer.epochs, 2);
    assert.deepEqual(config.network.settings.convArgs, {
      channels: [2],
      padding: 1,
      poolingIndices: [0],
      norm: null,
    });
    assert.equal(parseExperimentConfig(raw).trainer.epochs, raw.trainer.epochs);
  });

  it('runs as npm start, the first README command', () => {
    const scripts = JSON.parse(readText(new URL('package.json', ROOT).pathname)).scripts;
    assert.match(scripts.start, /node bin\/clinicadl-webgpu\.js demo$/);
    const commands = readmeCommands().filter((command) => command !== 'npm install');
    assert.equal(commands[0], 'npm start');
  });
});
