// Runs the competitors' training steps (torch_cnn.py, tfjs_cnn.mjs) as child processes and
// parses the JSON line each prints. A competitor that cannot run gives a result with `error`
// set, so the benchmark table reports why its column is empty.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const PYTHON = '/usr/bin/python3';
export const TFJS_INSTALL =
  'mkdir -p DIR && cd DIR && npm init -y && npm install webgpu@0.6.2 ' +
  '@tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-webgpu@4.22.0';

export interface CompetitorSetup {
  batchSize: number;
  imageSize: readonly [number, number, number];
  batchNorm: boolean;
  steps: number;
}

export interface CompetitorResult {
  /** 'torch-cpu', 'torch-cuda', 'tfjs-webgpu', ... */
  system: string;
  version?: string;
  device?: string;
  threads?: number;
  firstStepMs?: number;
  stepMs?: number[];
  peakBytes?: number;
  /** Measurement method of peakBytes. */
  method?: string;
  /** Reason there is no measurement. */
  error?: string;
}

/** Runs a command and returns its stdout; rejects with its stderr's last lines on failure. */
function runChild(
  command: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(stdout);
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      const reason =
        signal === 'SIGKILL' ? `timed out after ${timeoutMs / 1000} s` : `exit ${code}`;
      reject(new Error(`${command} ${args.join(' ')} failed (${reason}): ${tail}`));
    });
  });
}

/** Parses the last JSON line of a runner's output. */
export function parseResult(system: string, stdout: string): CompetitorResult {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((text) => text.startsWith('{'));
  if (!line) return { system, error: `no JSON result in the output: ${stdout.slice(-200)}` };
  return JSON.parse(line) as CompetitorResult;
}

async function runCompetitor(
  system: string,
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<CompetitorResult> {
  try {
    return parseResult(system, await runChild(command, args, timeoutMs));
  } catch (error) {
    return { system, error: error instanceof Error ? error.message : String(error) };
  }
}

function sizeArgs(setup: Omit<CompetitorSetup, 'steps'>): string[] {
  return ['--batch', String(setup.batchSize), '--size', ...setup.imageSize.map(String)];
}

export interface TorchOptions {
  /** CPU threads; 0 keeps torch's default. */
  threads: number;
  /** 'cpu' or 'cuda'. */
  device: string;
  timeoutMs: number;
}

/** Times the step in PyTorch (bench/compare/torch_cnn.py). */
export function runTorch(setup: CompetitorSetup, options: TorchOptions): Promise<CompetitorResult> {
  const args = [join(HERE, 'torch_cnn.py'), ...sizeArgs(setup), '--steps', String(setup.steps)];
  args.push('--threads', String(options.threads), '--device', options.device);
  if (setup.batchNorm) args.push('--bn');
  return runCompetitor(`torch-${options.device}`, PYTHON, args, options.timeoutMs);
}

/** Measures the peak memory that one PyTorch training step adds. */
export function runTorchMemory(
  setup: Omit<CompetitorSetup, 'steps'>,
  options: TorchOptions,
): Promise<CompetitorResult> {
  const args = [join(HERE, 'torch_cnn.py'), ...sizeArgs(setup), '--memory'];
  args.push('--threads', String(options.threads), '--device', options.device);
  if (setup.batchNorm) args.push('--bn');
  return runCompetitor(`torch-${options.device}`, PYTHON, args, options.timeoutMs);
}

/** Returns why TensorFlow.js cannot run from `dir`, or undefined when it is installed there. */
export function tfjsMissing(dir: string): string | undefined {
  const packages = ['webgpu', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'];
  const missing = packages.filter((name) => !existsSync(join(dir, 'node_modules', name)));
  if (missing.length === 0) return undefined;
  return (
    `TensorFlow.js is not installed in ${dir} (missing ${missing.join(', ')}); create it ` +
    `with: ${TFJS_INSTALL.replaceAll('DIR', dir)}`
  );
}

/** Times the step in TensorFlow.js on its WebGPU backend (bench/compare/tfjs_cnn.mjs). */
export function runTfjs(
  setup: CompetitorSetup,
  dir: string,
  timeoutMs: number,
): Promise<CompetitorResult> {
  const system = 'tfjs-webgpu';
  const missing = tfjsMissing(dir);
  if (missing) return Promise.resolve({ system, error: missing });
  const args = [join(HERE, 'tfjs_cnn.mjs'), '--dir', dir, ...sizeArgs(setup)];
  args.push('--steps', String(setup.steps));
  if (setup.batchNorm) args.push('--bn');
  return runCompetitor(system, process.execPath, args, timeoutMs);
}

/** Runs a TypeScript script of this repository through the project's loaders. */
export function runScript(
  script: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const loaders = fileURLToPath(new URL('../../scripts/node-loaders.mjs', import.meta.url));
  return runChild(process.execPath, ['--import', loaders, script, ...args], timeoutMs, env);
}

export interface RunOptions {
  steps: number;
  tfjsDir: string;
  torch: TorchOptions;
}

/** Runs PyTorch, then TensorFlow.js, on one setup. */
export async function runCompetitors(
  options: RunOptions,
  setup: Omit<CompetitorSetup, 'steps'>,
): Promise<CompetitorResult[]> {
  const withSteps = { ...setup, steps: options.steps };
  const torch = await runTorch(withSteps, options.torch);
  // TF.js steps take tens of seconds at the reference size, so it gets a longer timeout.
  const tfjs = await runTfjs(withSteps, options.tfjsDir, 60 * 60_000);
  return [torch, tfjs];
}

/** PyTorch's peak memory of one step at each setup. */
export async function runTorchMemories(
  options: RunOptions,
  setups: Omit<CompetitorSetup, 'steps'>[],
): Promise<CompetitorResult[]> {
  const results: CompetitorResult[] = [];
  for (const setup of setups) results.push(await runTorchMemory(setup, options.torch));
  return results;
}
