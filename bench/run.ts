// The engine benchmark (`npm run bench`). It times the reference CNN's training step on this
// engine next to PyTorch and TensorFlow.js's WebGPU backend in the same run. It also measures
// the memory of one step, the time from .net source to the first step, and per-kernel GFLOP/s
// against a matmul peak on the same adapter, then prints the tables and writes bench/RESULTS.md.
//
//   npm run bench -- [--quick] [--steps N] [--sections cnn,bn,memory,profile,cold]
//                    [--tfjs-dir DIR] [--torch-device cpu|cuda] [--threads N] [--no-write]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { UserError } from '../src/errors.js';
import { acquireGpu, describeAdapter, type Gpu } from '../src/runtime/index.js';
import {
  benchCnnStep,
  compileCnnStep,
  profileKernels,
  type CnnSetup,
  type CnnStepResult,
  syntheticBatch,
} from './cnn-step.js';
import {
  compareSteps,
  renderReport,
  type Column,
  type CompileRow,
  type MemoryRow,
  type Report,
} from './compare/report.js';
import {
  parseResult,
  runCompetitors,
  runScript,
  runTorchMemories,
  type RunOptions,
} from './compare/runners.js';

const SECTIONS = ['cnn', 'bn', 'memory', 'profile', 'cold', 'kernels', 'preprocess'] as const;
type Section = (typeof SECTIONS)[number];
const DEFAULT_SECTIONS: Section[] = ['cnn', 'bn', 'memory', 'profile', 'cold'];
const SELF = fileURLToPath(import.meta.url);

const USAGE = `Usage: npm run bench -- [options]
  --quick              tiny sizes (2 x 1x16x16x16), 2 steps, no cold-compile section, no file
  --steps N            timed training steps per system (default 5, quick 2)
  --sections LIST      comma-separated, from ${SECTIONS.join(', ')}
                       (default ${DEFAULT_SECTIONS.join(',')}; kernels and preprocess run
                       bench/kernels.ts and bench/preprocess.ts as child processes)
  --tfjs-dir DIR       TensorFlow.js scratch install (default $TFJS_BENCH_DIR or /tmp/tfjs-bench)
  --torch-device NAME  cpu or cuda (default cpu)
  --threads N          PyTorch CPU threads (default: the number of CPU cores)
  --no-write           print only; do not write bench/RESULTS.md`;

interface Options extends RunOptions {
  quick: boolean;
  sections: Set<Section>;
  write: boolean;
  reference: CnnSetup;
  fullSize: CnnSetup;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const sections = new Set((value('--sections')?.split(',') ?? DEFAULT_SECTIONS) as Section[]);
  for (const section of sections) {
    if (!SECTIONS.includes(section)) {
      throw new UserError(`Unknown section '${section}'; the sections are ${SECTIONS.join(', ')}.`);
    }
  }
  if (quick && value('--sections') === undefined) sections.delete('cold');
  const steps = Number(value('--steps') ?? (quick ? 2 : 5));
  if (!Number.isInteger(steps) || steps < 1) {
    throw new UserError(`--steps must be a positive integer, got '${value('--steps')}'.`);
  }
  const threads = Number(value('--threads') ?? os.cpus().length);
  const reference: CnnSetup = quick
    ? { batchSize: 2, imageSize: [16, 16, 16], batchNorm: false }
    : { batchSize: 2, imageSize: [80, 96, 80], batchNorm: false };
  const fullSize: CnnSetup = quick
    ? { batchSize: 4, imageSize: [24, 26, 22], batchNorm: false }
    : { batchSize: 4, imageSize: [169, 208, 179], batchNorm: false };
  return {
    quick,
    sections,
    steps,
    write: !quick && !argv.includes('--no-write'),
    reference,
    fullSize,
    tfjsDir: value('--tfjs-dir') ?? process.env.TFJS_BENCH_DIR ?? '/tmp/tfjs-bench',
    torch: { threads, device: value('--torch-device') ?? 'cpu', timeoutMs: 30 * 60_000 },
  };
}

function describeSetup(setup: CnnSetup): string {
  return `${setup.batchSize} x 1x${setup.imageSize.join('x')}`;
}

/** Returns the adapter's name for table cells, e.g. "WebGPU llvmpipe". */
function shortAdapter(gpu: Gpu): string {
  const { description, device, architecture } = gpu.adapterInfo;
  const name = description?.split(':')[0] || device || architecture || 'unnamed adapter';
  return `WebGPU ${name}`;
}

/** Times our step and the competitors' on one setup, giving the rows of one network. */
async function stepSection(gpu: Gpu, options: Options, setup: CnnSetup, label: string) {
  const ours = await benchCnnStep(gpu, setup, options.steps);
  const competitors = await runCompetitors(options, setup);
  const rows = compareSteps(
    `${label}, ${describeSetup(setup)}`,
    ours,
    shortAdapter(gpu),
    competitors,
  );
  return { ours, competitors, rows };
}

/**
 * Compiles our program at `setup` and runs one step, so that the bytes belong to a step that
 * runs. Returns the device bytes and the step's milliseconds, or the error that stops it.
 */
async function ourMemory(gpu: Gpu, setup: CnnSetup): Promise<Column> {
  try {
    const program = await compileCnnStep(gpu, setup);
    const start = performance.now();
    const loss = await program.step(syntheticBatch(setup));
    if (!Number.isFinite(loss)) throw new Error(`The step's loss is ${loss}, not finite.`);
    const ms = performance.now() - start;
    return { bytes: program.compiled.memoryBytes, ms, plan: program.compiled.memoryPlan };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Runs this script in a child process that only compiles the reference CNN and takes its
 * first step, with Mesa's shader cache in `cacheDir`: empty for a cold compile, filled by a
 * previous child for a warm one.
 */
async function childCompile(options: Options, cacheDir: string): Promise<Column> {
  const env: NodeJS.ProcessEnv = { ...process.env, MESA_SHADER_CACHE_DIR: cacheDir };
  delete env.MESA_SHADER_CACHE_DISABLE;
  const args = ['--compile-child', ...(options.quick ? ['--quick'] : [])];
  try {
    const result = parseResult('compile', await runScript(SELF, args, 30 * 60_000, env)) as Column;
    return result.ms !== undefined ? result : { error: result.error ?? 'no result' };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

async function compileChild(options: Options): Promise<void> {
  const gpu = await acquireGpu();
  try {
    const result = await benchCnnStep(gpu, options.reference, 0);
    console.log(JSON.stringify({ ms: result.compileToFirstStepMs, compileMs: result.compileMs }));
  } finally {
    gpu.destroy();
  }
}

async function runBenchmark(options: Options): Promise<Report> {
  const started = new Date();
  const loadAtStart = os.loadavg();
  const gpu = await acquireGpu();
  const report: Report = {
    started,
    loadAtStart,
    adapter: describeAdapter(gpu.adapterInfo),
    steps: [],
    memory: [],
    compile: [],
    extra: [],
    stepCount: options.steps,
    torchDevice: options.torch.device,
  };
  try {
    let reference: CnnStepResult | undefined;
    if (options.sections.has('cnn')) {
      const section = await stepSection(gpu, options, options.reference, 'reference CNN');
      reference = section.ours;
      report.steps.push(...section.rows);
      report.compile.push({
        label: '.net source to first step in this process (shader cache as found)',
        ours: { ms: reference.compileToFirstStepMs, compileMs: reference.compileMs },
        competitors: section.competitors,
      });
    }
    if (options.sections.has('profile') && reference) {
      report.kernels = await profileKernels(gpu, reference.program, 2, options.quick ? 256 : 512);
    }
    if (options.sections.has('bn')) {
      const setup = { ...options.reference, batchNorm: true };
      const section = await stepSection(gpu, options, setup, 'reference CNN + batch norm');
      report.steps.push(...section.rows);
    }
    if (options.sections.has('memory')) {
      report.memory = await memorySection(gpu, options, reference);
    }
    if (options.sections.has('cold')) report.compile.push(...(await coldSection(options)));
    for (const section of ['kernels', 'preprocess'] as const) {
      if (options.sections.has(section)) report.extra.push(await otherBenchmark(section));
    }
  } finally {
    gpu.destroy();
  }
  report.loadAtEnd = os.loadavg();
  return report;
}

async function memorySection(
  gpu: Gpu,
  options: Options,
  reference: CnnStepResult | undefined,
): Promise<MemoryRow[]> {
  const setups = [options.reference, options.fullSize];
  const ours: Column[] = [];
  for (const setup of setups) {
    const known = setup === options.reference && reference;
    ours.push(known ? { bytes: reference.memoryBytes } : await ourMemory(gpu, setup));
  }
  const torch = await runTorchMemories(options, setups);
  return setups.map((setup, index) => ({
    input: describeSetup(setup),
    ours: ours[index]!,
    torch: torch[index]!,
  }));
}

async function coldSection(options: Options): Promise<CompileRow[]> {
  const cacheDir = mkdtempSync(join(os.tmpdir(), 'bench-shader-cache-'));
  try {
    const cold = await childCompile(options, cacheDir);
    const warm = await childCompile(options, cacheDir);
    return [
      { label: '.net source to first step, cold (empty Mesa shader cache)', ours: cold },
      { label: '.net source to first step, warm (cache filled by the cold run)', ours: warm },
    ];
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

async function otherBenchmark(section: 'kernels' | 'preprocess') {
  const script = fileURLToPath(new URL(`./${section}.ts`, import.meta.url));
  const args = section === 'preprocess' ? ['--no-write'] : [];
  try {
    return { title: `bench/${section}.ts`, text: await runScript(script, args, 30 * 60_000) };
  } catch (error) {
    return { title: `bench/${section}.ts`, text: String(error) };
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    console.error(`${error.message}\nRun \`npm run bench -- --help\` for the options.`);
    process.exitCode = 1;
    return;
  }
  if (argv.includes('--compile-child')) return compileChild(options);
  const report = await runBenchmark(options);
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  const text = renderReport(report, command);
  console.log(text);
  if (options.write) writeFileSync(new URL('./RESULTS.md', import.meta.url), text);
}

await main();
