// Runs `bench/run.ts --quick` as `npm run bench` would and checks that its report has every
// table and row, so the benchmark cannot break unnoticed. It checks structure, not speed.

import assert from 'node:assert/strict';
import { runScript } from '../../bench/compare/runners.js';

const SCRIPT = new URL('../../bench/run.ts', import.meta.url).pathname;

/** Returns the cells of the Markdown table under `heading`, without its header and rule. */
function tableRows(report: string, heading: string): string[][] {
  const section = report.split(`## ${heading}\n`)[1];
  assert.ok(section !== undefined, `the report has no section '${heading}'`);
  const lines = section.split('\n## ')[0]!.split('\n');
  return lines
    .filter((line) => line.startsWith('|'))
    .slice(2)
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((text) => text.trim()),
    );
}

describe('bench run options', () => {
  const cases: [string[], RegExp][] = [
    [['--sections', 'cnn,bogus'], /Unknown section 'bogus'; the sections are cnn, bn,/],
    [['--steps', '0'], /--steps must be a positive integer, got '0'/],
    [['--steps', 'many'], /--steps must be a positive integer, got 'many'/],
  ];
  for (const [args, message] of cases) {
    it(`rejects ${args.join(' ')}`, async () => {
      await assert.rejects(runScript(SCRIPT, args, 60_000), message);
    });
  }
});

describe('bench run --quick', function () {
  // Creating the pipelines of a training step takes minutes on lavapipe when Mesa's shader
  // cache does not hold them yet, and the competitors start Python and TensorFlow.js.
  this.timeout(20 * 60_000);
  let report = '';

  before(async () => {
    report = await runScript(SCRIPT, ['--quick'], 20 * 60_000);
  });

  it('times every system on both networks', () => {
    const rows = tableRows(report, 'Training step');
    const systems = rows.map((row) => `${row[0]!.split(',')[0]} / ${row[1]!.split(' ')[0]}`);
    for (const network of ['reference CNN', 'reference CNN + batch norm']) {
      for (const system of ['clinicadl-webgpu', 'PyTorch', 'TF.js']) {
        assert.ok(systems.includes(`${network} / ${system}`), `no row for ${network} / ${system}`);
      }
    }
  });

  it('reports a positive step time for ours', () => {
    const ours = tableRows(report, 'Training step').filter((row) => row[1] === 'clinicadl-webgpu');
    assert.equal(ours.length, 2);
    for (const row of ours) assert.ok(Number(row[3]) > 0, `step ms is '${row[3]}'`);
  });

  it('compares memory at two sizes', () => {
    const rows = tableRows(report, 'Memory of one training step');
    assert.deepEqual(
      rows.map((row) => row[0]),
      ['2 x 1x16x16x16', '4 x 1x24x26x22'],
    );
    for (const row of rows) assert.match(row[1]!, /^\d+\.\d MiB$/);
  });

  it('times compile to first step', () => {
    const [row] = tableRows(report, 'Compile to first step');
    assert.match(row![1]!, /^\d+(\.\d)? ms$/);
  });

  it('profiles the convolution kernels', () => {
    const names = tableRows(report, 'Kernels of the reference CNN step').map((row) => row[0]!);
    // Each kernel has variants (conv3d_forward_direct, ...) chosen per shape.
    for (const kernel of ['conv3d_forward', 'conv3d_input_grad', 'conv3d_weight_grad']) {
      const pattern = new RegExp(`^${kernel}(_\\w+)? #1$`);
      assert.ok(
        names.some((name) => pattern.test(name)),
        `no row for ${kernel} #1`,
      );
    }
    assert.match(report, /Matmul peak on this adapter: \d+\.\d\d GFLOP\/s/);
  });

  it('states every target', () => {
    const targets = report.split('## Targets\n')[1] ?? '';
    assert.match(targets, /speed-up over TF\.js WebGPU .* \(target at least 10\)/);
    assert.match(targets, /PyTorch CPU's time/);
    assert.match(targets, /Memory at 4 x 1x24x26x22/);
    assert.match(targets, /under 10 s: (met|not met)/);
  });
});
