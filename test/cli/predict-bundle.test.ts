import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { bundleNode, ROOT } from '../../scripts/build.mjs';
import { runCli } from './helpers.js';

// predict as users run it: the one-file bundle. It lies under build/, so that Node finds the
// 'webgpu' package, which the bundle leaves out, in the repository's node_modules.
describe('predict from the bundle', () => {
  let folder: string;
  before(async () => {
    mkdirSync(join(ROOT, 'build'), { recursive: true });
    folder = mkdtempSync(join(ROOT, 'build', 'predict-bundle-'));
    const demo = await runCli('demo', '--quick', '--output', folder);
    assert.equal(demo.status, 0, demo.stderr);
    const bundle = join(folder, 'cli.js');
    await bundleNode({ entry: join(ROOT, 'src/cli/main.ts'), outfile: bundle, logLevel: 'silent' });
    copyFileSync(join(ROOT, 'build/clinicadl.wasm'), join(folder, 'clinicadl.wasm'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('predicts a dataset folder', () => {
    const output = join(folder, 'out');
    const args = ['predict', join(folder, 'maps'), join(folder, 'dataset'), '--output', output];
    const run = spawnSync(process.execPath, [join(folder, 'cli.js'), ...args], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Metrics on 8 labelled images/);
    const lines = readFileSync(join(output, 'predictions.tsv'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 9);
  });
});
