// A training step compiled into one GPU program: forward, loss, backward and the optimizer
// update of every trainable parameter, encoded into one command buffer per step. The loss
// is read back through a ring of staging buffers, so step t+1 is encoded and submitted
// before step t's loss reaches the CPU.

import { UserError } from '../errors.js';
import { appendBackward } from '../graph/autodiff.js';
import {
  checkpointGraph,
  type CheckpointOption,
  type CheckpointResult,
} from '../graph/checkpoint.js';
import { numElements, type Graph, type Value } from '../graph/ir.js';
import { planMemory } from '../graph/plan-memory.js';
import { compileGraph, type CompiledGraph } from '../kernels/compile.js';
import { lowerGraph, type ExtraLowering } from '../kernels/lower-graph.js';
import {
  lowerOptimizer,
  optimizerUniforms,
  type ParameterUpdate,
} from '../kernels/lower-optimizer.js';
import { isFrozen, type OptimizerConfig } from '../optim/optimizers.js';
import type { Gpu } from '../runtime/gpu.js';
import { Readback } from '../runtime/program.js';
import { dropoutSeed } from '../kernels/dropout.js';
import type { LowerContext } from '../kernels/lower.js';
import { value } from '../kernels/lower.js';
import {
  accumulator,
  lowerAccumulation,
  lowerAverage,
  lowerClear,
  lowerClipping,
  type ClipOptions,
} from '../kernels/lower-gradients.js';

export type InputData = Float32Array | Int32Array | Uint32Array;

/** The optimizer's part of a checkpoint. */
export interface OptimizerState {
  steps: number;
  microSteps: number;
  tensors: Map<string, Float32Array>;
}

export interface TrainingProgramOptions {
  optimizer: OptimizerConfig;
  /**
   * Micro-batches whose gradients are averaged before each optimizer update. Default 1. The
   * update then uses the mean gradient, as one batch of k times the size would give.
   */
  accumulationSteps?: number;
  /** Gradient clipping before each update (by value, then by global L2 norm). Default none. */
  clip?: ClipOptions;
  /** Seed of the parameter initialisation. Default 0. */
  seed?: number;
  /** Names the programs in errors and profiles. Default 'train'. */
  name?: string;
  /**
   * Gradient checkpointing: recompute forward activations during the backward pass instead
   * of keeping them, for volumes whose step does not fit in memory. Default 'none'. See
   * CheckpointOption; the results keep their bits.
   */
  checkpoint?: CheckpointOption;
}

/**
 * Returns the bytes that compileGraph would plan for `graph`'s tensors, without creating
 * pipelines or buffers, so 'auto' checkpointing can compare candidate graphs.
 * NOTE: compileGraph also writes some unary gradients in place, so its memoryBytes can be
 * lower than this count.
 */
function plannedBytes(
  gpu: Gpu,
  graph: Graph,
  keep: readonly Value[],
  extra: ExtraLowering,
  phases: ExtraLowering[],
): number {
  const lowered = lowerGraph(graph, { limits: gpu.limits, training: true }, keep, extra, {
    phases,
  });
  const tensors = [...lowered.tensors.values()].map((tensor) => ({
    id: tensor.id,
    byteLength: tensor.elements * 4,
    persistent: tensor.persistent,
    label: tensor.label,
  }));
  const steps = lowered.dispatches.map(({ tensors: ids }) => ({
    reads: ids.filter((id) => id !== -1 && !lowered.uniforms.has(id)),
    writes: [],
  }));
  return planMemory(tensors, steps).totalBytes;
}

export class TrainingProgram {
  /** Optimizer steps taken so far. */
  steps = 0;
  /** Micro-batches run so far; equal to steps without accumulation. */
  microSteps = 0;

  private constructor(
    private readonly gpu: Gpu,
    /** The training graph: the forward graph with the backward pass appended. */
    readonly compiled: CompiledGraph,
    readonly forward: Graph,
    private readonly optimizer: OptimizerConfig,
    private readonly updates: readonly ParameterUpdate[],
    private readonly lossReadback: Readback,
    private readonly seed: number,
    /** Micro-batches per optimizer update. */
    readonly accumulationSteps: number,
    /** Summary of the gradient checkpointing applied to the training graph. */
    readonly checkpoint: CheckpointResult,
  ) {
    for (const key of compiled.uniformKeys) {
      const stream = /^dropout:(\d+)$/.exec(key);
      if (stream) this.dropoutLayers.set(key, Number(stream[1]));
    }
  }

  /** Seed uniform key and layer (node id) of every dropout. */
  private readonly dropoutLayers = new Map<string, number>();

  /**
   * Compiles the training step of `graph` minimising `loss` (a value of `graph`) with
   * `options.optimizer`. Parameters under the optimizer's `freeze` prefixes get no
   * gradient and no update.
   */
  static async compile(
    gpu: Gpu,
    graph: Graph,
    loss: Value,
    options: TrainingProgramOptions,
  ): Promise<TrainingProgram> {
    const { optimizer } = options;
    const trainable = (name: string) => !isFrozen(optimizer, name);
    const backward = appendBackward(graph, loss, { trainable });
    if (backward.gradients.size === 0) {
      throw new UserError(
        'No parameter is trained: every parameter is frozen or does not affect the loss. ' +
          `Check the optimizer's freeze list (${JSON.stringify(optimizer.freeze)}).`,
      );
    }
    const updates: ParameterUpdate[] = backward.graph.params
      .filter((param) => backward.gradients.has(param.name!))
      .map((param) => ({ param, grad: backward.gradients.get(param.name!)! }));
    const keep = [backward.loss, ...backward.graph.outputs.map((output) => output.value)];
    const accumulation = options.accumulationSteps ?? 1;
    if (!Number.isInteger(accumulation) || accumulation < 1) {
      throw new UserError(`accumulationSteps must be an integer >= 1, got ${accumulation}.`);
    }
    const clip = options.clip ?? {};
    const sizes = updates.map(({ param }) => numElements(param.shape));
    // Without accumulation one program runs forward, backward, clipping and the update;
    // with it, each step adds its gradients to accumulators and a second program averages,
    // clips and applies them every k steps.
    const single = (context: LowerContext) => [
      ...lowerClipping(
        context,
        updates.map(({ grad }, i) => ({ operand: value(grad), elements: sizes[i]! })),
        clip,
      ),
      ...lowerOptimizer(context, optimizer, updates),
    ];
    const update = (context: LowerContext) => [
      ...lowerAverage(context, updates, accumulation),
      ...lowerClipping(
        context,
        updates.map(({ param }, i) => ({ operand: accumulator(param), elements: sizes[i]! })),
        clip,
      ),
      ...lowerOptimizer(context, optimizer, updates, ({ param }) => accumulator(param)),
      ...lowerClear(context, updates),
    ];
    const extra =
      accumulation === 1 ? single : (context: LowerContext) => lowerAccumulation(context, updates);
    const phases = accumulation === 1 ? [] : [update];
    const checkpoint = checkpointGraph(
      backward.graph,
      graph.nodes.length,
      keep,
      options.checkpoint ?? 'none',
      (candidate) => plannedBytes(gpu, candidate, keep, extra, phases),
    );
    const compiled = await compileGraph(gpu, backward.graph, {
      name: options.name ?? 'train',
      keep,
      seed: options.seed,
      training: true,
      extra,
      phases,
    });
    const readback = new Readback(gpu, 'loss', compiled.buffer(backward.loss), 4);
    return new TrainingProgram(
      gpu,
      compiled,
      graph,
      optimizer,
      updates,
      readback,
      options.seed ?? 0,
      accumulation,
      checkpoint,
    );
  }

  /** State_dict names of the parameters this program trains. */
  get trainedParameters(): string[] {
    return this.updates.map(({ param }) => param.name!);
  }

  /**
   * Runs one step on a batch: writes `inputs` (by graph input name), the optimizer's
   * hyper-parameters with the learning rate scaled by `lrFactor`, and submits. The returned
   * promise resolves to the step's loss; the caller may submit the next step first.
   */
  step(inputs: Record<string, InputData>, lrFactor = 1): Promise<number> {
    for (const { name } of this.forward.inputs) {
      const data = inputs[name];
      if (data === undefined) {
        throw new UserError(`The training step needs the input '${name}', which is missing.`);
      }
      this.compiled.write(name, data);
    }
    this.microSteps += 1;
    // Dropout draws a new mask every micro-batch; the optimizer counts its own updates.
    for (const [key, layer] of this.dropoutLayers) {
      this.compiled.writeUniform(key, dropoutSeed(this.seed, this.microSteps, layer));
    }
    const updates = this.microSteps % this.accumulationSteps === 0;
    if (updates) this.writeOptimizerUniforms(this.steps + 1, lrFactor);
    const [loss] = this.compiled.program.submit([this.lossReadback]);
    if (updates) {
      this.steps += 1;
      // With accumulation, the update is a program of its own after the k-th micro-batch.
      if (this.accumulationSteps > 1) this.compiled.phasePrograms[0]!.submit();
    }
    return loss!.then((bytes) => new Float32Array(bytes)[0]!);
  }

  private writeOptimizerUniforms(step: number, lrFactor: number): void {
    for (const [key, data] of optimizerUniforms(this.optimizer, this.updates, step, lrFactor)) {
      this.compiled.writeUniform(key, data);
    }
  }

  /** Reads every parameter and buffer, by state_dict name. */
  async readState(): Promise<Map<string, Float32Array>> {
    const state = new Map<string, Float32Array>();
    for (const value of this.compiled.graph.stateValues()) {
      state.set(value.name!, await this.compiled.read(value));
    }
    return state;
  }

  /** Overwrites parameters and buffers (loading weights); missing names keep their values. */
  writeState(state: Map<string, Float32Array>): void {
    for (const [name, data] of state) this.compiled.writeState(name, data);
  }

  /**
   * Captures the optimizer's state for a checkpoint: its moment and accumulator tensors by
   * key, and the step counters (the learning-rate schedule's state is the caller's).
   */
  async readOptimizerState(): Promise<OptimizerState> {
    return {
      steps: this.steps,
      microSteps: this.microSteps,
      tensors: await this.compiled.readStateTensors(),
    };
  }

  /** Restores a state from readOptimizerState, so training resumes exactly where it was. */
  writeOptimizerState(state: OptimizerState): void {
    this.compiled.writeStateTensors(state.tensors);
    this.steps = state.steps;
    this.microSteps = state.microSteps;
  }

  /** Waits for every submitted step. */
  async sync(): Promise<void> {
    await this.gpu.sync();
  }
}
