// `bench`: the options it passes to bench/run.ts, its errors, and one quick run end to end.

import assert from 'node:assert/strict';

import { benchArguments, repositoryRoot } from '../../src/cli/bench.js';
import { UserError } from '../../src/errors.js';
import { runCli } from './helpers.js';

describe('cli bench', () => {
  it('passes each option under its flag', () => {
    const cases: [Parameters<typeof benchArguments>[0], string[]][] = [
      [{}, []],
      [{ write: true }, []],
      [{ quick: true, write: false }, ['--quick', '--no-write']],
      [{ steps: 3, sections: ['cnn', 'memory'] }, ['--steps', '3', '--sections', 'cnn,memory']],
      [
        { tfjsDir: '/x/tfjs', torchDevice: 'cuda', threads: 4 },
        ['--tfjs-dir', '/x/tfjs', '--torch-device', 'cuda', '--threads', '4'],
      ],
    ];
    for (const [options, expected] of cases) assert.deepEqual(benchArguments(options), expected);
  });

  it('rejects an unknown section', () => {
    assert.throws(
      () => benchArguments({ sections: ['cnn', 'gpu'] }),
      (error: Error) =>
        error instanceof UserError &&
        error.message.includes("'gpu'") &&
        error.message.includes('cnn, bn, memory'),
    );
  });

  it('finds the repository root from its own module', () => {
    const root = repositoryRoot();
    assert.ok(root !== undefined);
    assert.equal(repositoryRoot('/'), undefined);
  });

  it('exits 1 for bad option values', async () => {
    for (const args of [
      ['bench', '--sections', 'cnn,nope'],
      ['bench', '--steps', '0'],
      ['bench', '--torch-device', 'tpu'],
    ]) {
      const run = await runCli(...args);
      assert.equal(run.status, 1, args.join(' '));
      assert.match(run.stderr, /nope|--steps|--torch-device/);
    }
  });

  it('documents every option in --help', async () => {
    const run = await runCli('bench', '--help');
    assert.equal(run.status, 0);
    for (const flag of [
      '--quick',
      '--steps',
      '--sections',
      '--tfjs-dir',
      '--torch-device',
      '--threads',
      '--no-write',
    ]) {
      assert.ok(run.stdout.includes(flag), flag);
    }
  });

  it('runs the quick CNN section', async function () {
    this.timeout(180_000);
    const run = await runCli(
      'bench',
      '--quick',
      '--sections',
      'cnn',
      '--steps',
      '1',
      '--tfjs-dir',
      '/nonexistent-tfjs',
    );
    assert.equal(run.status, 0, run.stderr);
    const row = run.stdout
      .split('\n')
      .find((line) => line.startsWith('| reference CNN, 2 x 1x16x16x16 | clinicadl-webgpu'));
    assert.ok(row, run.stdout);
    const median = Number(row.split('|')[4]);
    assert.ok(Number.isFinite(median), row);
    assert.ok(median > 0, row);
  });
});
