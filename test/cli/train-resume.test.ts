import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runCli } from './helpers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
// Epochs of 2 images take milliseconds, so a long run leaves time to interrupt it.
const EPOCHS = 150;

function tinyConfig(dataset: string) {
  return {
    data: { dataset, label: 'diagnosis', classes: ['CN', 'AD'], test: 0.34, validation: 0.5 },
    network: {
      name: 'CNN',
      settings: { convArgs: { channels: [2], padding: 1, poolingIndices: [0], norm: null } },
    },
    optimizer: { name: 'Adam', lr: 0.01 },
    trainer: { epochs: EPOCHS, batchSize: 2, metrics: ['loss', 'balancedAccuracy'] },
  };
}

interface ChildRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI from source in a child process and sends it SIGINT once its stdout matches
 * `interruptAt`.
 */
function runInterrupted(args: string[], interruptAt: RegExp): Promise<ChildRun> {
  const loaders = join(REPO, 'scripts', 'node-loaders.mjs');
  const entry = join(REPO, 'src', 'cli', 'main.ts');
  const child = spawn(process.execPath, ['--import', loaders, entry, ...args], { cwd: REPO });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!sent && interruptAt.test(stdout)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Returns training.tsv without the timing columns, which differ from run to run. */
function historyWithoutTimes(maps: string): string[][] {
  const lines = readFileSync(join(maps, 'split-0', 'training.tsv'), 'utf8')
    .trim()
    .split('\n');
  const rows = lines.map((line) => line.split('\t'));
  const timing = new Set(['seconds', 'samples_per_second']);
  const keep = rows[0]!.map((name, index) => (timing.has(name) ? -1 : index)).filter((i) => i >= 0);
  return rows.map((row) => keep.map((index) => row[index]!));
}

const readBytes = (maps: string, path: string) => readFileSync(join(maps, 'split-0', path));

describe('cli train output folder and resume', function () {
  // Compiling the GPU pipelines can take minutes on lavapipe when the machine is loaded.
  this.timeout(300_000);
  let root: string;
  let dataset: string;
  let config: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'cli-train-resume-'));
    dataset = join(root, 'dataset');
    const generate = ['generate', 'trivial', dataset, '--subjects-per-class', '3'];
    const run = await runCli(...generate, '--resample', '8', '--crop', 'brain', '--workers', '0');
    assert.equal(run.status, 0, run.stderr);
    config = join(root, 'tiny.json');
    writeFileSync(config, JSON.stringify(tinyConfig(dataset)));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const rejected: [string, (root: string) => string[], RegExp][] = [
    [
      'the dataset folder',
      (r) => ['--output', join(r, 'dataset'), '--force'],
      /is or contains the dataset folder/,
    ],
    [
      'a folder above the dataset',
      (r) => ['--output', r, '--force'],
      /is or contains the dataset folder/,
    ],
    [
      'a path that is a file',
      (r) => ['--output', join(r, 'tiny.json')],
      /tiny\.json is a file, not a folder/,
    ],
    [
      'a path below a file',
      (r) => ['--output', join(r, 'tiny.json', 'maps')],
      /tiny\.json, on the path .* is a file/,
    ],
    [
      'a folder of other files',
      (r) => ['--output', join(r, 'notes')],
      /notes is not empty and contains no experiment/,
    ],
    [
      '--resume without an experiment',
      (r) => ['--output', join(r, 'new'), '--resume'],
      /contains no experiment to resume/,
    ],
    [
      '--resume with --force',
      (r) => ['--output', join(r, 'new'), '--resume', '--force'],
      /pass only one of them/,
    ],
  ];
  for (const [name, args, message] of rejected) {
    it(`rejects ${name} before training`, async () => {
      mkdirSync(join(root, 'notes'), { recursive: true });
      writeFileSync(join(root, 'notes', 'notes.txt'), 'my notes\n');
      const run = await runCli('train', config, ...args(root));
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stdout, /Training CNN/);
      assert.equal(readFileSync(join(root, 'notes', 'notes.txt'), 'utf8'), 'my notes\n');
    });
  }

  it('resumes after Ctrl-C to equal weights', async () => {
    const whole = join(root, 'maps-whole');
    const wholeRun = await runCli('train', config, '--output', whole);
    assert.equal(wholeRun.status, 0, wholeRun.stderr);
    assert.match(wholeRun.stdout, /compiled GPU pipelines in \d+\.\d s/);
    assert.match(wholeRun.stdout, /Evaluating the selected model on the 2 test images/);

    const maps = join(root, 'maps-resumed');
    const args = ['train', config, '--output', maps];
    const stopped = await runInterrupted(args, /epoch 1\/150 /);
    assert.equal(stopped.status, 130, stopped.stdout + stopped.stderr);
    const line = /Interrupted during epoch (\d+): kept the checkpoint after epoch (\d+) of 150/;
    const [, during, kept] = line.exec(stopped.stdout) ?? [];
    assert.ok(Number(kept) >= 1, stopped.stdout);
    assert.ok(Number(kept) < EPOCHS, stopped.stdout);
    assert.ok(Number(during) > Number(kept), stopped.stdout);
    assert.match(stopped.stdout, /Resume with: clinicadl-webgpu train \S+ --output \S+ --resume/);
    assert.equal(historyWithoutTimes(maps).length, Number(kept) + 1, 'a header and kept epochs');

    const again = await runCli(...args);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /contains an unfinished experiment \(its last checkpoint is after/);
    const changed = await runCli(...args, '--resume', '--seed', '7');
    assert.equal(changed.status, 1);
    assert.match(
      changed.stderr,
      /configuration differs from its train-config\.json at trainer\.seed/,
    );

    const resumed = await runCli(...args, '--resume');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`resuming after epoch ${kept}/150`));
    assert.match(resumed.stdout, /Test metrics \(150 epochs/);
    for (const path of ['checkpoints/last/model.safetensors', 'best-loss/model.safetensors']) {
      assert.ok(readBytes(maps, path).equals(readBytes(whole, path)), path);
    }
    assert.deepEqual(historyWithoutTimes(maps), historyWithoutTimes(whole));
  });

  it('restarts an experiment without checkpoint', async () => {
    const maps = join(root, 'maps-no-checkpoint');
    mkdirSync(maps);
    for (const file of ['experiment.json', 'train-config.json']) {
      copyFileSync(join(root, 'maps-resumed', file), join(maps, file));
    }
    const run = await runCli('train', config, '--output', maps);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /unfinished experiment \(it has no checkpoint yet\)\. Pass --resume/);
    const resumed = await runCli('train', config, '--output', maps, '--resume');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.doesNotMatch(resumed.stdout, /resuming after epoch/);
    assert.equal(historyWithoutTimes(maps).length, EPOCHS + 1, 'a header and every epoch');
  });

  it('replaces a finished experiment only with --force', async () => {
    const maps = join(root, 'maps-whole');
    const run = await runCli('train', config, '--output', maps, '--epochs', '1');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /contains a finished experiment .* pass --force to replace it/);
    const resume = await runCli('train', config, '--output', maps, '--resume');
    assert.equal(resume.status, 1);
    assert.match(
      resume.stderr,
      /is finished \(it has report\.html\), so there is nothing to resume/,
    );
    const forced = await runCli('train', config, '--output', maps, '--epochs', '1', '--force');
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /Test metrics \(1 epoch, /);
    assert.equal(historyWithoutTimes(maps).length, 2, 'a header and 1 epoch');
  });

  it('records the grid of the training images', () => {
    const experiment = JSON.parse(
      readFileSync(join(root, 'maps-whole', 'experiment.json'), 'utf8'),
    );
    const grid = experiment.data.grid;
    // The trivial generator keeps Colin27's RAS orientation and resamples to 8 mm voxels.
    assert.equal(grid.axisCodes, 'RAS');
    assert.deepEqual(grid.voxelSizeMm, [8, 8, 8]);
    // Without a crop transform, the network's [C, D, H, W] input is the file's grid reversed.
    assert.deepEqual([...grid.shape].reverse(), experiment.data.inShape.slice(1));
    assert.deepEqual(grid.affine[3], [0, 0, 0, 1]);
  });
});
