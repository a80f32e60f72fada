// Gradient saliency maps: |d output[target] / d input| for each sample of a batch, computed on
// the device by appending the backward pass to the network's graph (appendBackward with
// `inputs`). For class scores [N, K] the target is one class per sample. For a voxel-wise
// output [N, C, D, H, W] it is one channel, whose values are summed over the voxels.

import { UserError } from '../errors.js';
import { appendBackward } from '../graph/autodiff.js';
import { numElements, type Graph, type Value } from '../graph/ir.js';
import { compileGraph, type CompiledGraph } from '../kernels/compile.js';
import type { Gpu } from '../runtime/gpu.js';

export interface SaliencyOptions {
  /** The network's input and output names; default 'input' and 'output'. */
  inputName?: string;
  outputName?: string;
  /** Parameters and buffers by state_dict name; missing ones keep their initial values. */
  weights?: ReadonlyMap<string, Float32Array>;
}

export interface SaliencyResult {
  /** The network's output for the batch, `[N, ...outShape]`. */
  output: Float32Array;
  /** The target of each sample. */
  targets: number[];
  /** |d output[target] / d input|, the input's shape `[N, ...inShape]`. */
  saliency: Float32Array;
}

/** A network compiled with the gradient of its selected output with respect to its input. */
export class SaliencyProgram {
  private constructor(
    readonly compiled: CompiledGraph,
    private readonly input: Value,
    private readonly output: Value,
    private readonly gradient: Value,
    private readonly inputName: string,
    private readonly selectorName: string,
  ) {}

  /**
   * Compiles `forward` (a network graph whose input batch fixes N) in eval mode with the
   * backward pass of sum(output * selector), and writes `options.weights`.
   */
  static async compile(
    gpu: Gpu,
    forward: Graph,
    options: SaliencyOptions = {},
  ): Promise<SaliencyProgram> {
    const inputName = options.inputName ?? 'input';
    const outputName = options.outputName ?? 'output';
    const graph = forward.clone();
    const input = graph.input(inputName);
    const output = graph.output(outputName);
    if (input === undefined || output === undefined) {
      throw new UserError(
        `Saliency needs the network's input '${inputName}' and output '${outputName}'; the ` +
          `graph has inputs ${graph.inputs.map((e) => e.name).join(', ')} and outputs ` +
          `${graph.outputs.map((e) => e.name).join(', ')}.`,
      );
    }
    const selectorName = `${outputName}Selector`;
    const selector = graph.addInput(selectorName, output.shape);
    const selected = graph.addNode('mul', [output, selector], {}, 'saliency')[0]!;
    const axes = output.shape.map((_, axis) => axis);
    const objective = graph.addNode('sum', [selected], { axes, keepDims: false }, 'saliency')[0]!;
    const backward = appendBackward(graph, objective, {
      trainable: () => false,
      inputs: [inputName],
    });
    const gradient = backward.inputGradients.get(inputName);
    if (gradient === undefined) {
      throw new UserError(
        `The output '${outputName}' does not depend on the input '${inputName}', so it has no ` +
          'saliency map.',
      );
    }
    const backwardOutput = backward.graph.output(outputName)!;
    const compiled = await compileGraph(gpu, backward.graph, {
      name: 'saliency',
      training: false,
      keep: [backwardOutput, gradient],
    });
    for (const [name, data] of options.weights ?? []) compiled.writeState(name, data);
    const backwardInput = backward.graph.input(inputName)!;
    return new SaliencyProgram(
      compiled,
      backwardInput,
      backwardOutput,
      gradient,
      inputName,
      selectorName,
    );
  }

  /** The batch size N the program was compiled for. */
  get batchSize(): number {
    return this.input.shape[0]!;
  }

  /**
   * Returns the saliency of every sample of `batch` (`[N, ...inShape]`, row-major). `targets`
   * gives each sample's class or channel. The default is the predicted one (the largest output,
   * or the channel with the largest sum over the voxels), found by a first run.
   */
  async run(batch: Float32Array, targets?: readonly number[]): Promise<SaliencyResult> {
    if (batch.length !== numElements(this.input.shape)) {
      throw new UserError(
        `A saliency batch needs ${numElements(this.input.shape)} values (shape ` +
          `[${this.input.shape.join(', ')}]), got ${batch.length}.`,
      );
    }
    this.compiled.write(this.inputName, batch);
    let chosen = targets === undefined ? undefined : [...targets];
    if (chosen === undefined) {
      this.compiled.write(this.selectorName, new Float32Array(numElements(this.output.shape)));
      this.compiled.run();
      chosen = predictedTargets(await this.compiled.read(this.output), this.output.shape);
    }
    this.compiled.write(this.selectorName, selectorData(this.output.shape, chosen));
    this.compiled.run();
    const output = await this.compiled.read(this.output);
    const saliency = await this.compiled.read(this.gradient);
    for (let index = 0; index < saliency.length; index++) {
      saliency[index] = Math.abs(saliency[index]!);
    }
    return { output, targets: chosen, saliency };
  }
}

/** Returns a 1 on each sample's target class (channel), 0 elsewhere, in the output's shape. */
export function selectorData(
  outputShape: readonly number[],
  targets: readonly number[],
): Float32Array {
  const [batchSize, channels, ...spatial] = outputShape as number[];
  if (targets.length !== batchSize) {
    throw new UserError(
      `Saliency needs one target per sample: ${batchSize} samples, got ${targets.length} targets.`,
    );
  }
  const voxels = numElements(spatial);
  const data = new Float32Array(numElements(outputShape));
  targets.forEach((target, row) => {
    if (!Number.isInteger(target) || target < 0 || target >= channels!) {
      throw new UserError(
        `Saliency target ${target} is invalid: the output has ${channels} classes or ` +
          `channels, numbered 0 to ${channels! - 1}.`,
      );
    }
    const start = (row * channels! + target) * voxels;
    data.fill(1, start, start + voxels);
  });
  return data;
}

/** Returns each sample's predicted class: the largest score, or the channel of largest sum. */
export function predictedTargets(output: Float32Array, outputShape: readonly number[]): number[] {
  const [batchSize, channels, ...spatial] = outputShape as number[];
  const voxels = numElements(spatial);
  const targets: number[] = [];
  for (let row = 0; row < batchSize!; row++) {
    let best = 0;
    let bestSum = -Infinity;
    for (let channel = 0; channel < channels!; channel++) {
      const start = (row * channels! + channel) * voxels;
      let sum = 0;
      for (let voxel = 0; voxel < voxels; voxel++) sum += output[start + voxel]!;
      if (sum > bestSum) [best, bestSum] = [channel, sum];
    }
    targets.push(best);
  }
  return targets;
}
