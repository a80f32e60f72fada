// Gradient saliency for the page's classification overlay: one SaliencyProgram per loaded
// experiment, compiled on first use for batches of one.

import type { LoadedExperiment } from '../experiment/load.js';
import { SaliencyProgram } from '../inference/saliency.js';
import type { Gpu } from '../runtime/gpu.js';

const programs = new WeakMap<LoadedExperiment, Promise<SaliencyProgram>>();

/**
 * Returns |d score[target] / d input| for one input sample `[C, D, H, W]`, summed over the
 * input channels, so the map has one value per voxel of the input grid.
 */
export async function saliencyOverlay(
  gpu: Gpu,
  experiment: LoadedExperiment,
  input: Float32Array,
  target: number,
): Promise<Float32Array> {
  let program = programs.get(experiment);
  if (program === undefined) {
    program = SaliencyProgram.compile(gpu, experiment.buildGraph(1), {
      inputName: experiment.inputName,
      outputName: experiment.outputName,
      weights: experiment.weights,
    });
    programs.set(experiment, program);
  }
  const { saliency } = await (await program).run(input, [target]);
  const channels = experiment.inShape[0]!;
  const voxels = saliency.length / channels;
  const summed = saliency.slice(0, voxels);
  for (let c = 1; c < channels; c++) {
    for (let v = 0; v < voxels; v++) summed[v] = summed[v]! + saliency[c * voxels + v]!;
  }
  return summed;
}
