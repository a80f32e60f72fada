// Saliency maps of a loaded experiment on one image, the same in Node and in browsers: the
// image is preprocessed as in training and |d output[target] / d input| is computed on the
// device, then resampled from the network's grid onto the input image's grid. For a model of
// patches or slices, each sample is explained with respect to its own input, for the image's
// target (by default the class voted from all samples). The maps are put back into the image
// as predict puts back voxel-wise outputs, so overlapping samples are averaged and voxels
// outside every sample get 0.

import { resampleToReference } from '../data/transforms/resample.js';
import { Volume } from '../data/volume.js';
import type { ImageBackend } from '../data/wasm/backend.js';
import { UserError } from '../errors.js';
import { formatShape } from '../graph/ir.js';
import type { InferenceVolume } from '../inference/common.js';
import { SaliencyProgram } from '../inference/saliency.js';
import type { Gpu } from '../runtime/gpu.js';
import type { LoadedExperiment } from './load.js';
import { assembleSamples } from './assemble.js';
import { describeOutput, softmax, requirePreprocessing } from './predict.js';
import {
  preprocessImage,
  sameGrid,
  type PreprocessedImage,
  type PreprocessedSample,
} from './preprocessing.js';
import { voteSamples } from './vote.js';

/** Compiles the experiment's network with its saliency backward pass, weights loaded. */
export async function compileExperimentSaliency(
  gpu: Gpu,
  experiment: LoadedExperiment,
): Promise<SaliencyProgram> {
  if (experiment.task === 'reconstruction') {
    throw new UserError(
      `${experiment.files.name} contains a reconstruction model, whose output has no class or ` +
        'channel to explain; saliency maps need a classification, regression or ' +
        'segmentation model.',
    );
  }
  return SaliencyProgram.compile(gpu, experiment.buildGraph(1), {
    inputName: experiment.inputName,
    outputName: experiment.outputName,
    weights: experiment.weights,
  });
}

export interface ImageSaliency {
  /** The class or channel explained. */
  target: number;
  /** The network's output on the image; for patches or slices, the mean of their outputs. */
  output: Float32Array;
  /**
   * Softmax of the output for a classifier, or for patches or slices the mean of their
   * softmax (the soft vote); undefined otherwise.
   */
  probabilities?: number[];
  /**
   * The preprocessed sample the network saw; for patches or slices, the preprocessed image
   * they were cut from.
   */
  sample: PreprocessedSample;
  /** The saliency on the sample's grid, `[C, D, H, W]` like the sample. */
  saliency: Float32Array;
  /** Number of patches or slices explained; 1 for a whole image. */
  samples?: number;
  /** The saliency resampled onto the input image's grid (the sum over input channels). */
  volume: Volume;
}

/** Resolves a class name or index given by the user to an output index. */
export function resolveTarget(experiment: LoadedExperiment, target: string): number {
  const classes = experiment.preprocessing?.classes ?? [];
  const byName = classes.indexOf(target);
  if (byName >= 0) return byName;
  const segmentation = experiment.task === 'segmentation';
  const total = segmentation || classes.length === 0 ? experiment.outShape[0]! : classes.length;
  const index = Number(target);
  if (Number.isInteger(index) && index >= 0 && index < total) return index;
  const names = classes.length > 0 ? ` (${classes.join(', ')})` : '';
  throw new UserError(
    `Target '${target}' is not a class of the model: give a class name${names} or an index ` +
      `from 0 to ${total - 1}.`,
  );
}

/** Computes the saliency of `volume` for `target` (default the predicted class or channel). */
export async function imageSaliency(
  backend: ImageBackend,
  experiment: LoadedExperiment,
  program: SaliencyProgram,
  volume: Volume,
  target?: number,
): Promise<ImageSaliency> {
  const preprocessed = preprocessImage(backend, volume, requirePreprocessing(experiment));
  if (experiment.inferer !== null) {
    // NOTE: a model with an inferer (patches cut inside the model) is not explained; models
    // trained on patches or slices (data.transforms.extraction) are.
    throw new UserError(
      `${experiment.files.name} runs its network through the inferer ` +
        `'${experiment.inferer.name}'; saliency maps are computed for models that take whole ` +
        'images, patches or slices from data.transforms.extraction only.',
    );
  }
  for (const sample of preprocessed.samples) checkSampleShape(experiment, sample);
  if (preprocessed.samples.length > 1) {
    return sampledSaliency(backend, experiment, program, volume, preprocessed, target);
  }
  const sample = preprocessed.samples[0]!;
  const result = await program.run(sample.data, target === undefined ? undefined : [target]);
  return {
    target: result.targets[0]!,
    output: result.output,
    ...(experiment.task === 'classification' ? { probabilities: softmax(result.output) } : {}),
    sample,
    saliency: result.saliency,
    volume: onInputGrid(backend, channelSum(result.saliency, sample), volume),
    samples: 1,
  };
}

function checkSampleShape(experiment: LoadedExperiment, sample: PreprocessedSample): void {
  if (sample.shape.join() === experiment.inShape.join()) return;
  throw new UserError(
    `After preprocessing, the image gives samples of shape ${formatShape(sample.shape)} but ` +
      `the network takes ${formatShape(experiment.inShape)}; the image must match the ` +
      'training grid.',
  );
}

function onInputGrid(backend: ImageBackend, map: Volume, input: Volume): Volume {
  if (sameGrid(map, input)) return map;
  return resampleToReference(backend, map, input, { interpolation: 'linear' });
}

/**
 * Explains every patch or slice for the image's target and puts the maps back into the
 * preprocessed image. The default target is chosen from the outputs of a first pass, and the
 * samples are run again only when it differs from the target that pass used.
 */
async function sampledSaliency(
  backend: ImageBackend,
  experiment: LoadedExperiment,
  program: SaliencyProgram,
  volume: Volume,
  preprocessed: PreprocessedImage,
  target: number | undefined,
): Promise<ImageSaliency> {
  const explain = async (chosen: number) => {
    const maps: InferenceVolume[] = [];
    const outputs: Float32Array[] = [];
    for (const sample of preprocessed.samples) {
      const result = await program.run(sample.data, [chosen]);
      maps.push({ data: result.saliency, shape: sample.shape });
      outputs.push(result.output);
    }
    return { maps, outputs };
  };
  let chosen = target ?? 0;
  let runs = await explain(chosen);
  const imageTarget = target ?? votedTarget(experiment, runs.outputs);
  if (imageTarget !== chosen) runs = await explain((chosen = imageTarget));

  const assembled = assembleSamples(runs.maps, preprocessed);
  const grid = preprocessed.volume;
  const sample = { data: grid.data, shape: [...assembled.shape], volume: grid };
  const vote = voteSamples(
    experiment,
    runs.outputs.map((output, index) =>
      describeOutput(experiment, { data: output, shape: experiment.outShape }, index),
    ),
  );
  return {
    target: chosen,
    output: meanOf(runs.outputs),
    ...(vote?.probabilities !== undefined ? { probabilities: vote.probabilities } : {}),
    sample,
    saliency: assembled.data,
    volume: onInputGrid(backend, channelSum(assembled.data, sample), volume),
    samples: preprocessed.samples.length,
  };
}

/**
 * Returns the image's target from its samples' outputs: the soft-voted class of a classifier,
 * the only output of a regressor, or the channel of largest score summed over every sample.
 */
function votedTarget(experiment: LoadedExperiment, outputs: readonly Float32Array[]): number {
  if (experiment.task === 'classification') {
    const samples = outputs.map((output, index) =>
      describeOutput(experiment, { data: output, shape: experiment.outShape }, index),
    );
    return voteSamples(experiment, samples)!.predicted!;
  }
  const channels = experiment.outShape[0]!;
  const sums = new Float64Array(channels);
  for (const output of outputs) {
    const voxels = output.length / channels;
    for (let index = 0; index < output.length; index++) {
      sums[Math.floor(index / voxels)]! += output[index]!;
    }
  }
  return sums.indexOf(Math.max(...sums));
}

function meanOf(arrays: readonly Float32Array[]): Float32Array {
  const mean = new Float32Array(arrays[0]!.length);
  for (const array of arrays) {
    for (let index = 0; index < mean.length; index++) mean[index]! += array[index]! / arrays.length;
  }
  return mean;
}

/** Returns the saliency summed over input channels as a volume on the sample's grid. */
function channelSum(saliency: Float32Array, sample: PreprocessedSample): Volume {
  const grid = sample.volume;
  const voxels = grid.spatialShape.reduce((total, size) => total * size, 1);
  const data = new Float32Array(voxels);
  for (let index = 0; index < saliency.length; index++) data[index % voxels]! += saliency[index]!;
  return new Volume(data, grid.spatialShape, grid.affine, {
    ...grid.header,
    derivedBy: [...(grid.header.derivedBy ?? []), 'saliency'],
  });
}
