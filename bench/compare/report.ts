// The benchmark's tables as Markdown: training-step times with ratios measured in the same
// run, memory, compile time, per-kernel GFLOP/s, and the targets each number is held to.

import os from 'node:os';

import type { KernelProfile } from '../cnn-step.js';
import type { CompetitorResult } from './runners.js';

/** One measurement of ours, or why there is none. */
export interface Column {
  ms?: number;
  /** For compile rows: the part of `ms` before the first step is submitted. */
  compileMs?: number;
  bytes?: number;
  /** Memory rows: the memory plan's largest buffers, for the notes under the table. */
  plan?: readonly { bytes: number; tensors: string[] }[];
  error?: string;
}

export interface StepRow {
  network: string;
  system: string;
  device: string;
  /** Milliseconds of each timed step. */
  stepMs?: number[];
  error?: string;
}

export interface MemoryRow {
  input: string;
  ours: Column;
  torch: CompetitorResult;
}

export interface CompileRow {
  label: string;
  ours: Column;
  /** Competitors' model build plus first step, when measured in the same run. */
  competitors?: CompetitorResult[];
}

export interface Report {
  started: Date;
  loadAtStart: number[];
  loadAtEnd?: number[];
  adapter: string;
  steps: StepRow[];
  memory: MemoryRow[];
  compile: CompileRow[];
  kernels?: KernelProfile;
  /** Output of the other benchmarks run as sections. */
  extra: { title: string; text: string }[];
  /** Timed steps per system. */
  stepCount: number;
  /** 'cpu' or 'cuda'. */
  torchDevice: string;
}

const OURS = 'clinicadl-webgpu';
const TARGET_TFJS_SPEEDUP = 10;
const TARGET_TORCH_RATIO = 3;
const TARGET_COMPILE_MS = 10_000;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function formatBytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Keeps an error message on one table line. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replaceAll('|', '/').slice(0, 300);
}

function systemName(result: CompetitorResult): string {
  const names: Record<string, string> = {
    'torch-cpu': 'PyTorch CPU',
    'torch-cuda': 'PyTorch CUDA',
    'tfjs-webgpu': 'TF.js WebGPU',
  };
  const name = names[result.system] ?? result.system;
  const version = result.version ? ` ${result.version}` : '';
  const threads = result.threads ? `, ${result.threads} threads` : '';
  return `${name}${version}${threads}`;
}

/** Builds the rows of one network: ours first, then each competitor. */
export function compareSteps(
  network: string,
  ours: { stepMs: number[] },
  adapter: string,
  competitors: CompetitorResult[],
): StepRow[] {
  const rows: StepRow[] = [{ network, system: OURS, device: adapter, stepMs: ours.stepMs }];
  for (const result of competitors) {
    const device = result.system.startsWith('tfjs') ? adapter : (result.device ?? '');
    const row: StepRow = { network, system: systemName(result), device };
    if (result.stepMs) row.stepMs = result.stepMs;
    else row.error = result.error ?? 'no result';
    rows.push(row);
  }
  return rows;
}

function stepTable(rows: StepRow[], torchLabel: string): string[] {
  const lines = [
    `| network | system | device | median step ms | steps | time / ${torchLabel} | time / TF.js WebGPU |`,
    '|---|---|---|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const peers = rows.filter((other) => other.network === row.network && other.stepMs);
    const torch = peers.find((other) => other.system.startsWith(torchLabel));
    const tfjs = peers.find((other) => other.system.startsWith('TF.js'));
    if (!row.stepMs) {
      lines.push(`| ${row.network} | ${row.system} | ${row.device} | ${cell(row.error!)} | | | |`);
      continue;
    }
    const ms = median(row.stepMs);
    const ratio = (other?: StepRow) => (other ? (ms / median(other.stepMs!)).toFixed(2) : '-');
    const cells = [row.network, row.system, row.device, formatMs(ms), String(row.stepMs.length)];
    lines.push(`| ${[...cells, ratio(torch), ratio(tfjs)].join(' | ')} |`);
  }
  return lines;
}

function memoryTable(rows: MemoryRow[], torchLabel: string): string[] {
  const lines = [
    `| input | ${OURS} device bytes | ${OURS} step ms | ${torchLabel} peak of one step | ours / PyTorch |`,
    '|---|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const ours = row.ours.bytes !== undefined ? formatBytes(row.ours.bytes) : cell(row.ours.error!);
    const ms = row.ours.ms !== undefined ? formatMs(row.ours.ms) : '-';
    const torch = row.torch.peakBytes;
    const theirs = torch !== undefined ? formatBytes(torch) : cell(row.torch.error ?? '');
    const ratio = row.ours.bytes !== undefined && torch ? (row.ours.bytes / torch).toFixed(2) : '-';
    lines.push(`| ${row.input} | ${ours} | ${ms} | ${theirs} | ${ratio} |`);
  }
  for (const row of rows.filter((r) => r.ours.plan)) {
    lines.push('', `Largest buffers of our plan at ${row.input} (tensors sharing each one):`, '');
    for (const buffer of row.ours.plan!.slice(0, 4)) {
      lines.push(`- ${formatBytes(buffer.bytes)}: ${buffer.tensors.join(', ')}`);
    }
  }
  const method = rows.find((row) => row.torch.method)?.torch.method;
  lines.push(
    '',
    `Ours is CompiledGraph.memoryBytes: the storage buffers the memory planner allocates for ` +
      'every tensor of the training step (input, label, parameters, gradients, Adam moments, ' +
      'activations and backward temporaries, shared by liveness). Uniform buffers, the loss ' +
      "readback buffer, pipelines and the driver's own memory are not counted. Our step ms " +
      'is one step run right after compiling, shader compilation included.',
  );
  if (method) lines.push('', `PyTorch: ${method}.`);
  return lines;
}

function compileTable(rows: CompileRow[]): string[] {
  const lines = [
    `| measure | ${OURS} | of which before the first submit | TF.js WebGPU build + first step | PyTorch build + first step |`,
    '|---|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const ours = row.ours.ms !== undefined ? `${formatMs(row.ours.ms)} ms` : cell(row.ours.error!);
    const first = (prefix: string) => {
      const result = row.competitors?.find((other) => other.system.startsWith(prefix));
      if (!result) return '';
      return result.firstStepMs !== undefined ? `${formatMs(result.firstStepMs)} ms` : 'failed';
    };
    const compile = row.ours.compileMs !== undefined ? `${formatMs(row.ours.compileMs)} ms` : '';
    lines.push(`| ${row.label} | ${ours} | ${compile} | ${first('tfjs')} | ${first('torch')} |`);
  }
  lines.push(
    '',
    'On lavapipe the pipelines are created within seconds and most of the shader compile ' +
      'time was observed inside the first step, so compare the first step with the ' +
      'median step time above.',
  );
  return lines;
}

function kernelTable(profile: KernelProfile): string[] {
  const { peakGflops, peakSize } = profile;
  const lines = [
    `Matmul peak on this adapter: ${peakGflops.toFixed(2)} GFLOP/s (${peakSize}^3, best run).` +
      (profile.usesTimestamps ? '' : ' No timestamp queries: one row for the whole program.'),
    '',
    '| kernel | calls per step | ms per step | GFLOP | GFLOP/s | % of matmul peak |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const total = profile.kernels.reduce((sum, kernel) => sum + kernel.milliseconds, 0);
  for (const kernel of profile.kernels) {
    const timed = kernel.flops > 0 && kernel.milliseconds > 0;
    const gflops = timed ? kernel.flops / kernel.milliseconds / 1e6 : 0;
    const share = gflops > 0 ? ((100 * gflops) / peakGflops).toFixed(0) : '-';
    const cells = [kernel.name, kernel.calls.toFixed(0), kernel.milliseconds.toFixed(1)];
    cells.push((kernel.flops / 1e9).toFixed(3), gflops > 0 ? gflops.toFixed(2) : '-', share);
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push(`| total | | ${total.toFixed(1)} | | | |`);
  lines.push(
    '',
    '`#k` is the k-th dispatch of that kernel in program order: the forward pass runs the ' +
      'convolutions first to last, the input and weight gradients run last to first, and the ' +
      'first convolution has no input gradient. GFLOP is the work each kernel plan declares.',
  );
  return lines;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'not met';
}

function targetLines(report: Report, torchLabel: string): string[] {
  const lines: string[] = [];
  for (const network of new Set(report.steps.map((row) => row.network))) {
    const rows = report.steps.filter((row) => row.network === network && row.stepMs);
    const ours = rows.find((row) => row.system === OURS);
    if (!ours) continue;
    const ms = median(ours.stepMs!);
    const tfjs = rows.find((row) => row.system.startsWith('TF.js'));
    const speedup = tfjs ? (median(tfjs.stepMs!) / ms).toFixed(2) : 'not measured';
    const tfjsMet = tfjs
      ? verdict(median(tfjs.stepMs!) / ms >= TARGET_TFJS_SPEEDUP)
      : 'not checked';
    lines.push(
      `- ${network}: speed-up over TF.js WebGPU ${speedup} ` +
        `(target at least ${TARGET_TFJS_SPEEDUP}): ${tfjsMet}.`,
    );
    const torch = rows.find((row) => row.system.startsWith(torchLabel));
    if (torch) {
      const ratio = ms / median(torch.stepMs!);
      lines.push(
        `- ${network}: ${ratio.toFixed(2)}x ${torchLabel}'s time ` +
          `(target at most ${TARGET_TORCH_RATIO}x): ${verdict(ratio <= TARGET_TORCH_RATIO)}.`,
      );
    }
  }
  for (const row of report.memory) {
    const theirs = row.torch.peakBytes;
    if (row.ours.bytes === undefined || theirs === undefined) {
      lines.push(`- Memory at ${row.input}: not compared (one side has no measurement).`);
      continue;
    }
    const met = row.ours.bytes <= theirs;
    lines.push(`- Memory at ${row.input}: at most PyTorch's: ${verdict(met)}.`);
  }
  for (const row of report.compile) {
    if (row.ours.ms === undefined) continue;
    const met = row.ours.ms < TARGET_COMPILE_MS;
    lines.push(`- ${row.label}: under ${TARGET_COMPILE_MS / 1000} s: ${verdict(met)}.`);
  }
  return lines;
}

function machineLines(report: Report, command: string): string[] {
  const cpus = os.cpus();
  const load = (values: number[]) => values.map((value) => value.toFixed(1)).join(' / ');
  const memory = (os.totalmem() / 2 ** 30).toFixed(1);
  return [
    `Written by \`${command}\`, started ${report.started.toISOString()}.`,
    '',
    `- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${memory} GiB ` +
      `memory, ${os.type()} ${os.release()}, Node ${process.versions.node}`,
    `- Adapter: ${report.adapter}`,
    `- Load average (1 / 5 / 15 min): ${load(report.loadAtStart)} at the start, ` +
      `${report.loadAtEnd ? load(report.loadAtEnd) : '?'} at the end`,
    `- Step times are medians of ${report.stepCount} steps after one untimed first step; ours ` +
      'keeps two steps in flight, the competitors await each step. Ratios compare numbers ' +
      'from this run only, because the machine is shared and its load changes.',
  ];
}

/** Renders the whole report as Markdown. */
export function renderReport(report: Report, command: string): string {
  const torchLabel = report.torchDevice === 'cuda' ? 'PyTorch CUDA' : 'PyTorch CPU';
  const parts = ['# Engine benchmark', '', ...machineLines(report, command)];
  if (report.steps.length > 0) {
    parts.push('', '## Training step', '', ...stepTable(report.steps, torchLabel));
  }
  if (report.memory.length > 0) {
    parts.push('', '## Memory of one training step', '', ...memoryTable(report.memory, torchLabel));
  }
  if (report.compile.length > 0) {
    parts.push('', '## Compile to first step', '', ...compileTable(report.compile));
  }
  if (report.kernels) {
    parts.push('', '## Kernels of the reference CNN step', '', ...kernelTable(report.kernels));
  }
  const targets = targetLines(report, torchLabel);
  if (targets.length > 0) parts.push('', '## Targets', '', ...targets);
  for (const { title, text } of report.extra) {
    parts.push('', `## ${title}`, '', '```', text.trim(), '```');
  }
  return `${parts.join('\n')}\n`;
}
