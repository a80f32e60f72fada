// `clinicadl-webgpu bench [--quick] [--steps N] [--sections LIST] ...` runs the engine benchmark
// of bench/run.ts (the same as `npm run bench`) in a child process: it times the reference CNN's
// training step next to PyTorch and TensorFlow.js, measures memory and compile time, and writes
// bench/RESULTS.md. The benchmark is TypeScript run through tsx, so it needs a checkout of the
// repository with its development dependencies installed.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Option, type Command } from 'commander';

import { UserError } from '../errors.js';
import { integerIn, nameList, type Writer } from './io.js';
import type { CommandContext } from './main.js';

/** The sections that bench/run.ts runs, in its order. */
export const BENCH_SECTIONS = [
  'cnn',
  'bn',
  'memory',
  'profile',
  'cold',
  'kernels',
  'preprocess',
] as const;

/** The options of `bench`, as commander parses them. */
export interface BenchOptions {
  quick?: boolean;
  steps?: number;
  sections?: string[];
  tfjsDir?: string;
  torchDevice?: string;
  threads?: number;
  write?: boolean;
}

/** Registers `bench`. */
export function registerBench(program: Command, context: CommandContext): void {
  program
    .command('bench')
    .description(
      "time the reference CNN's training step next to PyTorch and TensorFlow.js WebGPU, " +
        'measure memory, compile time and kernel GFLOP/s, and write bench/RESULTS.md ' +
        '(the same as `npm run bench`; needs a checkout with its dev dependencies)',
    )
    .option(
      '--quick',
      'tiny sizes (2 x 1x16x16x16) and 2 steps, to check the setup; writes no file',
    )
    .option(
      '--steps <n>',
      'timed training steps per system (default: 5, or 2 with --quick)',
      integerIn(1),
    )
    .option(
      '--sections <list>',
      `comma-separated sections to run, from ${BENCH_SECTIONS.join(', ')} ` +
        '(default: cnn,bn,memory,profile,cold)',
      nameList,
    )
    .option(
      '--tfjs-dir <folder>',
      'TensorFlow.js scratch install for the comparison (default: $TFJS_BENCH_DIR or /tmp/tfjs-bench)',
    )
    .addOption(
      new Option(
        '--torch-device <name>',
        'device of the PyTorch comparison (default: cpu)',
      ).choices(['cpu', 'cuda']),
    )
    .option('--threads <n>', 'PyTorch CPU threads (default: the number of CPU cores)', integerIn(1))
    .option('--no-write', 'print the tables only; leave bench/RESULTS.md as it is')
    .action(async (options: BenchOptions) => {
      const status = await runBench(options, context.io);
      if (status !== 0) throw new Error(`the benchmark (bench/run.ts) exited with ${status}`);
    });
}

/** Returns the arguments of bench/run.ts for the parsed options, validating the sections. */
export function benchArguments(options: BenchOptions): string[] {
  const args: string[] = [];
  if (options.quick) args.push('--quick');
  if (options.steps !== undefined) args.push('--steps', String(options.steps));
  if (options.sections !== undefined) {
    for (const section of options.sections) {
      if (!(BENCH_SECTIONS as readonly string[]).includes(section)) {
        throw new UserError(
          `--sections: unknown section '${section}'; the sections are ${BENCH_SECTIONS.join(', ')}.`,
        );
      }
    }
    args.push('--sections', options.sections.join(','));
  }
  if (options.tfjsDir !== undefined) args.push('--tfjs-dir', options.tfjsDir);
  if (options.torchDevice !== undefined) args.push('--torch-device', options.torchDevice);
  if (options.threads !== undefined) args.push('--threads', String(options.threads));
  if (options.write === false) args.push('--no-write');
  return args;
}

/** Returns the repository root: the nearest folder above `start` with this package's package.json. */
export function repositoryRoot(
  start = dirname(fileURLToPath(import.meta.url)),
): string | undefined {
  for (let folder = start; ; folder = dirname(folder)) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === 'clinicadl-webgpu') return folder;
    }
    if (dirname(folder) === folder) return undefined;
  }
}

/**
 * Runs bench/run.ts with the options and streams its output. Returns the child's exit status,
 * or its signal's name. The options are checked here first, so a failure of the child is an
 * internal one (exit status 2 of the program).
 */
export async function runBench(
  options: BenchOptions,
  io: { stdout: Writer; stderr: Writer },
): Promise<number | string> {
  const args = benchArguments(options);
  const root = repositoryRoot();
  const script = root && join(root, 'bench', 'run.ts');
  const loaders = root && join(root, 'scripts', 'node-loaders.mjs');
  if (!script || !existsSync(script) || !existsSync(loaders!)) {
    throw new UserError(
      'bench runs bench/run.ts from a checkout of the clinicadl-webgpu repository, but no ' +
        'checkout was found above this program. Clone the repository and run `npm ci` there.',
    );
  }
  if (!existsSync(join(root, 'node_modules', 'tsx'))) {
    throw new UserError(
      `bench needs the development dependencies (tsx), which are missing in ${root}. Run \`npm ci\` there.`,
    );
  }
  const child = spawn(process.execPath, ['--import', loaders!, script, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => io.stdout.write(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => io.stderr.write(chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? `signal ${signal}`));
  });
}
