import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bundleNode, ROOT } from '../../scripts/build.mjs';

// The CLI as users run it: one esbuild bundle that also serves as its own Wasm worker script.
describe('cli bundle', () => {
  let folder: string;
  let bundle: string;
  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'cli-bundle-'));
    bundle = join(folder, 'cli.js');
    await bundleNode({ entry: join(ROOT, 'src/cli/main.ts'), outfile: bundle, logLevel: 'silent' });
    copyFileSync(join(ROOT, 'build/clinicadl.wasm'), join(folder, 'clinicadl.wasm'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  function runBundle(...args: string[]) {
    return spawnSync(process.execPath, [bundle, ...args], { encoding: 'utf8', timeout: 60_000 });
  }

  it('prints the version', () => {
    const run = runBundle('--version');
    assert.equal(run.stderr, '');
    assert.equal(run.status, 0);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(run.stdout.trim(), version);
  });

  it('generates with a worker thread', () => {
    const out = join(folder, 'random');
    const run = runBundle('generate', 'random', out, '--resample', '8', '--subjects', '2');
    assert.equal(run.stderr, '');
    assert.equal(run.status, 0);
    assert.ok(existsSync(join(out, 'participants.tsv')));
    assert.ok(existsSync(join(out, 'sub-002/ses-M000/anat/sub-002_ses-M000_T1w.nii.gz')));
  });

  it('exits 1 for a user mistake', () => {
    const run = runBundle('generate', 'random', join(folder, 'bad'), '--input', 'none.nii');
    assert.equal(run.status, 1);
    assert.equal(run.stderr, 'error: none.nii: file not found.\n');
  });
});
