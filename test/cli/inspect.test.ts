import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInspect } from '../../src/cli/inspect.js';

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const status = runInspect(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { status, stdout, stderr };
}

/** Returns the number after `label` on its own line, as in `Total params: 31380`. */
function total(output: string, label: string): number {
  const match = new RegExp(`^${label}: (\\d+)$`, 'm').exec(output);
  assert.ok(match, `no '${label}' line in:\n${output}`);
  return Number(match[1]);
}

describe('cli inspect', () => {
  let folder: string;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'inspect-test-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('prints the layers and totals of a catalogue network', () => {
    const result = run([
      'CNN',
      '--set',
      'inShape=[1, 16, 16]',
      '--set',
      'convArgs={channels: [4]}',
    ]);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    // conv 3x3 from 1 to 4 channels: 4 * 9 + 4 params; output [1, 4, 14, 14] after the conv,
    // then max pooling is not requested (no poolingIndices), so the MLP gets 4 * 14 * 14 inputs.
    const convParams = 4 * 9 + 4;
    const linearParams = 4 * 14 * 14 * 2 + 2;
    assert.equal(total(result.stdout, 'Total params'), convParams + linearParams);
    // FLOPs per sample: conv 2 * 9 multiply-adds plus 1 bias per output, linear 2 * 784 + 1.
    const convFlops = 4 * 14 * 14 * (2 * 9 + 1);
    const linearFlops = 2 * (2 * 784 + 1);
    assert.equal(total(result.stdout, 'Total FLOPs'), convFlops + linearFlops);
    assert.equal(lines[lines.length - 2], `Total params: ${convParams + linearParams}`);
    assert.equal(lines[lines.length - 1], `Total FLOPs: ${convFlops + linearFlops}`);
    const convRow = lines.find((line) => line.startsWith('convolutions.layer0.conv '));
    assert.ok(convRow, result.stdout);
    assert.match(convRow, /conv\s+\[1, 4, 14, 14\]\s+40\s+14,896$/);
  });

  it('matches the parameter count of torchvision for ResNet18', () => {
    const result = run(['ResNet18']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(total(result.stdout, 'Total params'), 11689512);
    assert.match(result.stdout, /^Network ResNet18 \(.*resnet\.net\)$/m);
  });

  it('inspects a .net file by path', () => {
    const file = join(folder, 'tiny.net');
    writeFileSync(
      file,
      'network Tiny(width: int = 3) {\n  input x: [2, 5]\n  output y = linear(x, width)\n}\n',
    );
    const result = run([file, '--set=width=4']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(total(result.stdout, 'Total params'), 4 * 5 + 4);
    assert.match(result.stdout, /^Outputs: y \[1, 2, 4\]$/m);
  });

  it('writes totals above 1e21 in full digits', () => {
    const file = join(folder, 'huge.net');
    const body = '  input x: [10000000, 10000000, 10000000]\n  output y = relu(x)\n';
    writeFileSync(file, `network Huge() {\n${body}}\n`);
    const result = run([file]);
    assert.equal(result.status, 0, result.stderr);
    // relu costs one FLOP per element: 10^21 elements.
    const flops = 10n ** 21n;
    assert.match(result.stdout, new RegExp(`^Total FLOPs: ${flops}$`, 'm'));
    assert.match(result.stdout, new RegExp(`\\s${flops.toLocaleString('en-US')}$`, 'm'));
    assert.doesNotMatch(result.stdout, /e\+/);
  });

  it('prints diagnostics and returns 1 for a broken file', () => {
    const file = join(folder, 'broken.net');
    writeFileSync(file, 'network B() {\n  input x: [2, 5]\n  output y = linaer(x, 4)\n}\n');
    const result = run([file]);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.ok(
      result.stderr.startsWith(`${file}:3:14: error: unknown layer 'linaer'`),
      result.stderr,
    );
    assert.match(result.stderr, /did you mean 'linear'\?/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'a stack trace was printed');
  });

  // [arguments, start of the error message]
  const mistakes: [string[], string][] = [
    [
      ['ResNet81'],
      "error: 'ResNet81' is neither a .net file nor a catalogue network; did you mean 'ResNet18'?",
    ],
    [['CNN', '--sett', 'a=1'], "error: unknown option '--sett'; did you mean '--set'?"],
    [['CNN', '--set'], 'error: --set needs a value'],
    [[], 'error: inspect takes one .net file or catalogue name, got 0'],
    [
      ['CNN', '--set', 'numOutput=3'],
      "--set numOutput:1:1: error: network 'CNN' has no parameter 'numOutput'",
    ],
    [
      ['CNN', '--set', 'numOutputs=[3'],
      "--set numOutputs:1:14: error: expected ']' but found the end of the file",
    ],
    [[join('missing', 'none.net')], `error: file '${join('missing', 'none.net')}' not found`],
  ];
  for (const [args, message] of mistakes) {
    it(`rejects ${args.join(' ') || 'no arguments'}`, () => {
      const result = run(args);
      assert.equal(result.status, 1);
      assert.ok(result.stderr.startsWith(message), result.stderr);
    });
  }

  it('prints help', () => {
    const result = run(['--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^Usage: clinicadl-webgpu inspect/);
  });
});
