// The training step of the benchmark's reference CNN (dsl/bench/reference-cnn.net) on this
// engine: compile from .net source, time steps, profile kernels, and measure the device memory
// of the compiled program. bench/run.ts puts these numbers next to PyTorch and TensorFlow.js.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { compileNetFile } from '../src/dsl/compile.js';
import { nodeHost } from '../src/dsl/catalogue.js';
import type { Graph, Value } from '../src/graph/ir.js';
import { planMatmul } from '../src/kernels/matmul.js';
import { CrossEntropyLossConfig } from '../src/losses/index.js';
import { optimizerConfig } from '../src/optim/optimizers.js';
import { Profiler, Program, type Gpu, type KernelTiming } from '../src/runtime/index.js';
import { TrainingProgram } from '../src/training/program.js';

export const REFERENCE_NET = fileURLToPath(
  new URL('../dsl/bench/reference-cnn.net', import.meta.url),
);

export interface CnnSetup {
  /** Batch size N. */
  batchSize: number;
  /** Spatial size [D, H, W] of the one-channel input. */
  imageSize: readonly [number, number, number];
  /** Adds a batch norm after each convolution. */
  batchNorm: boolean;
}

export interface CnnStepResult {
  /** Milliseconds from reading the .net source to the first step's loss on the CPU. */
  compileToFirstStepMs: number;
  /** The part of compileToFirstStepMs before the first step is submitted. */
  compileMs: number;
  /** Milliseconds of each timed step, measured between consecutive loss readbacks. */
  stepMs: number[];
  /** Loss of the last timed step. */
  lastLoss: number;
  /** Device memory of the compiled program's tensors (CompiledGraph.memoryBytes). */
  memoryBytes: number;
  program: TrainingProgram;
}

/** Reads the reference CNN's .net source and elaborates it, then appends a cross-entropy loss. */
export function buildReferenceCnn(setup: CnnSetup): { graph: Graph; loss: Value } {
  const [depth, height, width] = setup.imageSize;
  const { graph } = compileNetFile(nodeHost, REFERENCE_NET, {
    batchSize: setup.batchSize,
    set: [`inShape=[1, ${depth}, ${height}, ${width}]`, `norm=${setup.batchNorm}`],
  });
  const scores = graph.output('scores')!;
  const label = graph.addInput('label', [setup.batchSize], 'i32');
  const loss = CrossEntropyLossConfig().appendLoss(graph, scores, label);
  return { graph, loss };
}

/** Compiles the training step with Adam at a learning rate of 1e-3, as the competitors use. */
export function compileCnnStep(gpu: Gpu, setup: CnnSetup): Promise<TrainingProgram> {
  const { graph, loss } = buildReferenceCnn(setup);
  const optimizer = optimizerConfig({ name: 'Adam', lr: 1e-3 });
  return TrainingProgram.compile(gpu, graph, loss, { optimizer, name: 'reference-cnn' });
}

/** A batch of uniform noise in [-1, 1) and alternating class labels 0, 1, 0, ... */
export function syntheticBatch(setup: CnnSetup): { image: Float32Array; label: Int32Array } {
  const [depth, height, width] = setup.imageSize;
  const image = new Float32Array(setup.batchSize * depth * height * width);
  for (let i = 0; i < image.length; i++) image[i] = Math.random() * 2 - 1;
  const label = Int32Array.from({ length: setup.batchSize }, (_, row) => row % 2);
  return { image, label };
}

/**
 * Compiles the step from .net source, runs a first step, then `steps` timed steps with up to
 * `inFlight` steps submitted before the oldest loss is awaited, as a training loop does.
 */
export async function benchCnnStep(
  gpu: Gpu,
  setup: CnnSetup,
  steps: number,
  inFlight = 2,
): Promise<CnnStepResult> {
  const start = performance.now();
  // The source is read here so that file access counts towards the compile time.
  readFileSync(REFERENCE_NET, 'utf8');
  const program = await compileCnnStep(gpu, setup);
  const compileMs = performance.now() - start;
  const batch = syntheticBatch(setup);
  const firstLoss = await program.step(batch);
  const compileToFirstStepMs = performance.now() - start;
  checkLoss(firstLoss, 0);

  const stepMs: number[] = [];
  const pending: Promise<number>[] = [];
  let last = performance.now();
  let lastLoss = firstLoss;
  for (let submitted = 0; submitted < steps || pending.length > 0;) {
    if (submitted < steps && pending.length < inFlight) {
      pending.push(program.step(batch));
      submitted += 1;
      continue;
    }
    lastLoss = await pending.shift()!;
    checkLoss(lastLoss, stepMs.length + 1);
    const now = performance.now();
    stepMs.push(now - last);
    last = now;
  }
  const memoryBytes = program.compiled.memoryBytes;
  return { compileToFirstStepMs, compileMs, stepMs, lastLoss, memoryBytes, program };
}

function checkLoss(loss: number, step: number): void {
  if (!Number.isFinite(loss)) {
    throw new Error(`The reference CNN's loss at step ${step} is ${loss}, not a finite number.`);
  }
}

export interface KernelProfile {
  /** Timed per step, slowest first. */
  kernels: KernelTiming[];
  /** Whether each dispatch was timed with timestamp queries, or only the whole program. */
  usesTimestamps: boolean;
  /** GFLOP/s of the matmul kernel on a peakSize^3 product (measureMatmulPeak). */
  peakGflops: number;
  peakSize: number;
}

/**
 * Names every dispatch of a kernel with one dispatch of at least 1% of the step's FLOPs after
 * the kernel and its rank among that kernel's dispatches in program order
 * ("conv3d_forward #2"), so the profiler times those one by one and merges the rest by name.
 */
function numberLargeDispatches(program: Program): Program {
  const total = program.dispatches.reduce((sum, dispatch) => sum + dispatch.flops, 0);
  const large = new Set(
    program.dispatches.filter((dispatch) => dispatch.flops >= total / 100).map((d) => d.name),
  );
  const seen = new Map<string, number>();
  const dispatches = program.dispatches.map((dispatch) => {
    if (!large.has(dispatch.name)) return dispatch;
    const rank = (seen.get(dispatch.name) ?? 0) + 1;
    seen.set(dispatch.name, rank);
    return { ...dispatch, name: `${dispatch.name} #${rank}` };
  });
  // A view of the same program whose dispatch list carries the new names.
  return Object.create(program, { dispatches: { value: dispatches } }) as Program;
}

/**
 * Runs the compiled step `runs` times under the profiler and returns the time of each kernel
 * per step, next to the matmul peak on the same adapter. Without timestamp queries the whole
 * program is one row.
 */
export async function profileKernels(
  gpu: Gpu,
  program: TrainingProgram,
  runs: number,
  peakSize: number,
): Promise<KernelProfile> {
  const profiler = new Profiler(gpu);
  const numbered = numberLargeDispatches(program.compiled.program);
  for (let run = 0; run < runs; run++) {
    numbered.submit([], profiler);
    await gpu.sync();
  }
  const kernels = (await profiler.results()).map((timing) => ({
    ...timing,
    calls: timing.calls / runs,
    milliseconds: timing.milliseconds / runs,
    flops: timing.flops / runs,
    bytes: timing.bytes / runs,
  }));
  const peakGflops = await measureMatmulPeak(gpu, peakSize, runs + 1);
  return { kernels, usesTimestamps: profiler.usesTimestamps, peakGflops, peakSize };
}

/**
 * Measures the GFLOP/s of the engine's matmul kernel on a size x size x size product, the
 * best of `runs` profiled runs after one warm-up: the peak that kernel rows are compared with.
 */
export async function measureMatmulPeak(gpu: Gpu, size: number, runs: number): Promise<number> {
  const plan = planMatmul({ batch: 1, m: size, n: size, k: size }, {}, gpu.limits);
  const kernel = await gpu.kernel(plan.spec);
  // Bindings: a, b, an unused bias slot, and the output.
  const elements = [size * size, size * size, 1, size * size];
  const buffers = elements.map((count, slot) => gpu.createBuffer(`peak ${slot}`, count * 4));
  try {
    const dispatch = { kernel, bindings: buffers, workgroups: plan.workgroups, flops: plan.flops };
    const program = new Program(gpu, `matmul ${size}`, [dispatch]);
    program.submit();
    await gpu.sync();
    let best = Infinity;
    for (let run = 0; run < runs; run++) {
      const profiler = new Profiler(gpu);
      program.submit([], profiler);
      await gpu.sync();
      const [timing] = await profiler.results();
      best = Math.min(best, timing!.milliseconds);
    }
    return plan.flops / best / 1e6;
  } finally {
    for (const buffer of buffers) buffer.destroy();
  }
}
