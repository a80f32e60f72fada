// Saliency maps of a loaded experiment on one image, the same in Node and in browsers: the
// image is preprocessed as in training and |d output[target] / d input| is computed on the
// device, then resampled from the network's grid onto the input image's grid.

import { resampleToReference } from '../data/transforms/resample.js';
import { Volume } from '../data/volume.js';
import type { ImageBackend } from '../data/wasm/backend.js';
import { UserError } from '../errors.js';
import { formatShape } from '../graph/ir.js';
import { SaliencyProgram } from '../inference/saliency.js';
import type { Gpu } from '../runtime/gpu.js';
import type { LoadedExperiment } from './load.js';
import { softmax, requirePreprocessing } from './predict.js';
import { preprocessImage, sameGrid, type PreprocessedSample } from './preprocessing.js';

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
  /** The network's output on the image. */
  output: Float32Array;
  /** Softmax of the output for a classifier; undefined otherwise. */
  probabilities?: number[];
  /** The preprocessed sample the network saw. */
  sample: PreprocessedSample;
  /** The saliency on the sample's grid, `[C, D, H, W]` like the sample. */
  saliency: Float32Array;
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
  if (preprocessed.samples.length !== 1 || experiment.inferer !== null) {
    // NOTE: saliency of patch or slice models would need one map per sample pasted back into
    // the image; only whole-image models are explained.
    throw new UserError(
      `${experiment.files.name} takes patches or slices; saliency maps are computed for ` +
        'models that take whole images only.',
    );
  }
  const sample = preprocessed.samples[0]!;
  if (sample.shape.join() !== experiment.inShape.join()) {
    throw new UserError(
      `After preprocessing, the image has shape ${formatShape(sample.shape)} but the network ` +
        `takes ${formatShape(experiment.inShape)}; the image must match the training grid.`,
    );
  }
  const result = await program.run(sample.data, target === undefined ? undefined : [target]);
  const onGrid = channelSum(result.saliency, sample);
  const resampled = sameGrid(onGrid, volume)
    ? onGrid
    : resampleToReference(backend, onGrid, volume, { interpolation: 'linear' });
  return {
    target: result.targets[0]!,
    output: result.output,
    ...(experiment.task === 'classification' ? { probabilities: softmax(result.output) } : {}),
    sample,
    saliency: result.saliency,
    volume: resampled,
  };
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
