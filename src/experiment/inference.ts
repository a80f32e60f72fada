// The network of a loaded experiment compiled for inference on a device, with its trained
// weights written: a forward function over batches of a fixed size.

import { numElements } from '../graph/ir.js';
import { programForward } from '../inference/program.js';
import type { ForwardFunction } from '../inference/common.js';
import { compileGraph, type CompiledGraph } from '../kernels/compile.js';
import type { Gpu } from '../runtime/gpu.js';
import type { LoadedExperiment } from './load.js';

export interface InferenceNetwork {
  compiled: CompiledGraph;
  /** Runs one batch of `batchSize` samples, `[batchSize, ...inShape]` row-major. */
  forward: ForwardFunction;
  batchSize: number;
  /** Values per input sample and per output sample. */
  inSize: number;
  outSize: number;
}

/** Compiles the experiment's network in eval mode for `batchSize` and loads its weights. */
export async function compileInference(
  gpu: Gpu,
  experiment: LoadedExperiment,
  options: { batchSize?: number } = {},
): Promise<InferenceNetwork> {
  const batchSize = options.batchSize ?? 1;
  const graph = experiment.buildGraph(batchSize);
  const compiled = await compileGraph(gpu, graph, {
    name: `${experiment.modelName} inference`,
    training: false,
  });
  for (const [name, data] of experiment.weights) compiled.writeState(name, data);
  return {
    compiled,
    forward: programForward(compiled, experiment.inputName, experiment.outputName),
    batchSize,
    inSize: numElements(experiment.inShape),
    outSize: numElements(experiment.outShape),
  };
}
