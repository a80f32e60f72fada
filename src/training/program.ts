// A training step compiled into one GPU program: forward, loss, backward and the optimizer
// update of every trainable parameter, encoded into one command buffer per step. The loss
// is read back through a ring of staging buffers, so step t+1 is encoded and submitted
// before step t's loss reaches the CPU.

import { UserError } from '../errors.js';
import { appendBackward } from '../graph/autodiff.js';
import type { Graph, Value } from '../graph/ir.js';
import { compileGraph, type CompiledGraph } from '../kernels/compile.js';
import {
  lowerOptimizer,
  optimizerUniforms,
  type ParameterUpdate,
} from '../kernels/lower-optimizer.js';
import { isFrozen, type OptimizerConfig } from '../optim/optimizers.js';
import type { Gpu } from '../runtime/gpu.js';
import { Readback } from '../runtime/program.js';
import { dropoutSeed } from '../kernels/dropout.js';

export type InputData = Float32Array | Int32Array | Uint32Array;

export interface TrainingProgramOptions {
  optimizer: OptimizerConfig;
  /** Seed of the parameter initialisation. Default 0. */
  seed?: number;
  /** Names the programs in errors and profiles. Default 'train'. */
  name?: string;
}

export class TrainingProgram {
  /** Optimizer steps taken so far. */
  steps = 0;

  private constructor(
    private readonly gpu: Gpu,
    /** The training graph: the forward graph with the backward pass appended. */
    readonly compiled: CompiledGraph,
    readonly forward: Graph,
    private readonly optimizer: OptimizerConfig,
    private readonly updates: readonly ParameterUpdate[],
    private readonly lossReadback: Readback,
    private readonly seed: number,
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
    const compiled = await compileGraph(gpu, backward.graph, {
      name: options.name ?? 'train',
      keep,
      seed: options.seed,
      training: true,
      extra: (context) => lowerOptimizer(context, optimizer, updates),
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
    this.steps += 1;
    for (const [key, data] of optimizerUniforms(
      this.optimizer,
      this.updates,
      this.steps,
      lrFactor,
    )) {
      this.compiled.writeUniform(key, data);
    }
    for (const [key, layer] of this.dropoutLayers) {
      this.compiled.writeUniform(key, dropoutSeed(this.seed, this.steps, layer));
    }
    const [loss] = this.compiled.program.submit([this.lossReadback]);
    return loss!.then((bytes) => new Float32Array(bytes)[0]!);
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

  /** Waits for every submitted step. */
  async sync(): Promise<void> {
    await this.gpu.sync();
  }
}
