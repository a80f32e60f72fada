import assert from 'node:assert/strict';

import type { Command } from 'commander';

import { createProgram, reportFailure, VERSION } from '../../src/cli/main.js';
import { CommandInterrupted } from '../../src/cli/train.js';
import { UserError } from '../../src/errors.js';
import { getLogLevel, setLogLevel } from '../../src/log.js';
import { Capture, runCli } from './helpers.js';

/** Returns every command below `command` with its path, such as ['generate', 'trivial']. */
function commandPaths(command: Command, path: string[] = []): [string[], Command][] {
  return command.commands.flatMap((child) => {
    const childPath = [...path, child.name()];
    return [[childPath, child] as [string[], Command], ...commandPaths(child, childPath)];
  });
}

describe('cli program', () => {
  it('lists the commands and global options in --help', async () => {
    const run = await runCli('--help');
    assert.equal(run.status, 0);
    for (const text of [
      'generate',
      'inspect',
      '--log-level',
      '--version',
      'Usage: clinicadl-webgpu',
    ]) {
      assert.ok(run.stdout.includes(text), `--help lacks ${text}`);
    }
    assert.equal(run.stderr, '');
  });

  it('prints the version', async () => {
    const run = await runCli('--version');
    assert.equal(run.status, 0);
    assert.equal(run.stdout.trim(), VERSION);
    assert.match(VERSION, /^\d+\.\d+\.\d+/);
  });

  it('mentions every option in each command help', async () => {
    const program = createProgram({ stdout: new Capture(), stderr: new Capture() });
    const paths = commandPaths(program).filter(([, command]) => command.options.length > 0);
    assert.ok(paths.some(([path]) => path.join(' ') === 'generate trivial'));
    for (const [path, command] of paths) {
      const run = await runCli(...path, '--help');
      assert.equal(run.status, 0, `${path.join(' ')} --help`);
      for (const option of command.options) {
        const flag = option.long ?? option.short!;
        assert.ok(run.stdout.includes(flag), `${path.join(' ')} --help lacks ${flag}`);
        assert.ok(option.description.length > 10, `${flag} has no description`);
      }
    }
  });

  const mistakes: [string, string[], RegExp][] = [
    ['an unknown command', ['genrate'], /unknown command 'genrate' \(Did you mean generate\?\)/],
    [
      'an unknown option',
      ['generate', 'shepplogan', 'out', '--sise', '16'],
      /unknown option '--sise'/,
    ],
    ['a missing argument', ['generate', 'random'], /missing required argument 'output-folder'/],
    ['an invalid number', ['generate', 'shepplogan', 'out', '--size', 'big'], /'big' is invalid/],
    ['an invalid log level', ['--log-level', 'loud', 'generate'], /'loud' is invalid/],
  ];
  for (const [name, args, message] of mistakes) {
    it(`exits 1 with one line for ${name}`, async () => {
      const run = await runCli(...args);
      assert.equal(run.status, 1);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, /see 'clinicadl-webgpu.* --help'\n$/);
    });
  }

  it('names the failing subcommand in the hint', async () => {
    const run = await runCli('generate', 'trivial', 'out', '--sede', '1');
    assert.match(
      run.stderr,
      /Did you mean --seed\?\); see 'clinicadl-webgpu generate trivial --help'/,
    );
  });

  it('exits 1 with help when the command is missing', async () => {
    for (const args of [[], ['generate']]) {
      const run = await runCli(...args);
      assert.equal(run.status, 1, args.join(' '));
      assert.match(run.stderr, /Usage: clinicadl-webgpu/);
    }
  });

  it('runs inspect through the program', async () => {
    const help = await runCli('inspect', '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: clinicadl-webgpu inspect/);
    const missing = await runCli('inspect', 'NoSuchNetwork');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /'NoSuchNetwork' is neither a \.net file nor a catalogue network/);
  });

  it('restores the log level after a run', async () => {
    const before = getLogLevel();
    await runCli('--log-level', 'debug', 'inspect', '--help');
    assert.equal(getLogLevel(), before);
  });
});

describe('cli failure report', () => {
  it('gives 1 and one line for a user error', () => {
    const stderr = new Capture();
    const status = reportFailure(new UserError('Seed -1 is invalid.'), {
      stdout: new Capture(),
      stderr,
    });
    assert.equal(status, 1);
    assert.equal(stderr.text, 'error: Seed -1 is invalid.\n');
  });

  it('gives 130 and no line for an interrupted command', () => {
    const stderr = new Capture();
    const status = reportFailure(new CommandInterrupted(), { stdout: new Capture(), stderr });
    assert.equal(status, 130);
    assert.equal(stderr.text, '');
  });

  it('gives 2 and the stack at debug level for an internal failure', () => {
    const previous = getLogLevel();
    try {
      for (const [level, showsStack] of [
        ['warn', false],
        ['debug', true],
      ] as const) {
        setLogLevel(level);
        const stderr = new Capture();
        const status = reportFailure(new TypeError('x is undefined'), {
          stdout: new Capture(),
          stderr,
        });
        assert.equal(status, 2);
        assert.match(stderr.text, /^internal error: x is undefined\n/);
        assert.equal(stderr.text.includes('at '), showsStack, `${level}: ${stderr.text}`);
      }
    } finally {
      setLogLevel(previous);
    }
  });
});
