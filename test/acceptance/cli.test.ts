// Acceptance tests of the clinicadl-webgpu command as the README presents it: `inspect` on a
// user's .net file, and the `demo` command that `npm start` runs.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runCli } from '../cli/helpers.js';

const reference = JSON.parse(
  readFileSync(new URL('fixtures/reference.json', import.meta.url), 'utf8'),
) as { nets: Record<string, { params: number }> };

const netPath = (name: string) => fileURLToPath(new URL(`nets/${name}`, import.meta.url));

describe('acceptance: inspect a user network', () => {
  for (const name of ['small3d.net', 'res.net', 'tiny-unet.net']) {
    it(`prints PyTorch's total for ${name}`, async () => {
      const run = await runCli('inspect', netPath(name));
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^Total params: ${reference.nets[name]!.params}$`, 'm'));
      assert.match(run.stdout, /^Total FLOPs: \d+$/m);
    });
  }

  it('exits 1 for a misspelt setting', async () => {
    const run = await runCli('inspect', netPath('small3d.net'), '--set', 'numOutput=3');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /no parameter 'numOutput'/);
  });
});

// package.json's `npm start` runs `clinicadl-webgpu demo`; its quick form runs the same job
// on tiny sizes.
describe('acceptance: npm start', () => {
  it('runs the quick demo', async () => {
    const output = mkdtempSync(join(tmpdir(), 'acceptance-demo-'));
    try {
      const run = await runCli('demo', '--quick', '--output', output);
      assert.equal(run.status, 0, run.stderr);
      assert.ok(existsSync(join(output, 'maps', 'report.html')), run.stdout);
      assert.match(run.stdout, /^ {2}balancedAccuracy +\d/m);
    } finally {
      rmSync(output, { recursive: true, force: true });
    }
  });
});
