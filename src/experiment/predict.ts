// Prediction on one image with a loaded experiment, the same in Node and in browsers. The image
// is preprocessed as in training and its samples run through the network (or the model's
// inferer). Voxel-wise outputs become volumes on the input image's grid.

import { resampleToReference } from '../data/transforms/resample.js';
import { Volume } from '../data/volume.js';
import type { ImageBackend } from '../data/wasm/backend.js';
import { UserError } from '../errors.js';
import { formatShape } from '../graph/ir.js';
import { runBatches, type InferenceVolume } from '../inference/common.js';
import { infererFromJSON, inferVolumes } from '../models/inferers.js';
import { assembleSamples } from './assemble.js';
import type { InferenceNetwork } from './inference.js';
import type { LoadedExperiment } from './load.js';
import { voteSamples, type ImageVote } from './vote.js';
import {
  preprocessImage,
  sameGrid,
  type PreprocessedImage,
  type PreprocessedSample,
  type Preprocessing,
} from './preprocessing.js';

/** The prediction of one sample (the whole image, a patch or a slice). */
export interface SamplePrediction {
  /** Number of the patch or slice; undefined for a whole image. */
  index?: number;
  /** The network's raw output. */
  output: Float32Array;
  /** Class index with the largest score (classification). */
  predicted?: number;
  /** Softmax of the scores (classification). */
  probabilities?: number[];
  /** The predicted value (regression). */
  value?: number;
}

export interface ImagePrediction {
  samples: SamplePrediction[];
  /** The preprocessed image the samples came from. */
  preprocessed: PreprocessedImage;
  /**
   * The prediction of the whole image, voted from its samples (classification and
   * regression); with one sample it repeats that sample's prediction.
   */
  vote?: ImageVote;
  /**
   * The voxel-wise output (segmentation labels or the reconstruction) resampled onto the
   * input image's grid; undefined for classification and regression.
   */
  outputVolume?: Volume;
}

/** Returns the loaded experiment's preprocessing, or throws naming what is missing. */
export function requirePreprocessing(experiment: LoadedExperiment): Preprocessing {
  if (experiment.preprocessing !== undefined) return experiment.preprocessing;
  throw new UserError(
    `${experiment.files.name} records no data section (experiment.json 'data' is null and ` +
      'there is no train-config.json), so the transforms used in training are unknown. Add ' +
      'train-config.json with a data.transforms section to the folder.',
  );
}

/** Returns the softmax of `scores`, computed in float64. */
export function softmax(scores: ArrayLike<number>): number[] {
  const values = Array.from(scores);
  const max = Math.max(...values);
  const exps = values.map((value) => Math.exp(value - max));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}

/** Runs the experiment's network on `volume`; `network` must be compiled from `experiment`. */
export async function predictImage(
  backend: ImageBackend,
  experiment: LoadedExperiment,
  network: InferenceNetwork,
  volume: Volume,
): Promise<ImagePrediction> {
  const [prediction] = await predictImages(backend, experiment, network, [volume]);
  return prediction!;
}

/**
 * Runs the experiment's network on `volumes`, their samples batched together, so a network
 * compiled for a batch of N takes N whole images per forward pass.
 */
export async function predictImages(
  backend: ImageBackend,
  experiment: LoadedExperiment,
  network: InferenceNetwork,
  volumes: readonly Volume[],
): Promise<ImagePrediction[]> {
  const preprocessing = requirePreprocessing(experiment);
  const images = volumes.map((volume) => preprocessImage(backend, volume, preprocessing));
  const outputs = await runSamples(experiment, network, images);
  return images.map((preprocessed, image) => {
    const samples = outputs[image]!.map((output, index) =>
      describeOutput(experiment, output, index),
    );
    if (samples.length === 1) delete samples[0]!.index;
    const dense = experiment.task === 'segmentation' || experiment.task === 'reconstruction';
    if (!dense) return { samples, preprocessed, vote: voteSamples(experiment, samples)! };
    // An inferer returns the whole image; patches and slices are put back in their places.
    const whole = experiment.inferer !== null || preprocessed.samples.length === 1;
    const output = whole ? outputs[image]![0]! : assembleSamples(outputs[image]!, preprocessed);
    const grid = whole ? preprocessed.samples[0]!.volume : preprocessed.volume;
    const outputVolume = denseVolume(backend, experiment, output, grid, volumes[image]!);
    return { samples, preprocessed, outputVolume };
  });
}

/**
 * Returns each image's outputs, one per sample: the network on all the samples in batches, or
 * the inferer on each image.
 */
async function runSamples(
  experiment: LoadedExperiment,
  network: InferenceNetwork,
  images: readonly PreprocessedImage[],
): Promise<InferenceVolume[][]> {
  if (experiment.inferer !== null) {
    const inferer = infererFromJSON(experiment.inferer);
    const results: InferenceVolume[][] = [];
    for (const image of images) {
      const volumes = image.samples.map(({ data, shape }) => ({ data, shape }));
      results.push(await inferVolumes(inferer, network.forward, volumes));
    }
    return results;
  }
  const samples = images.flatMap((image) => image.samples);
  for (const sample of samples) checkSampleShape(experiment, sample);
  const flat: InferenceVolume[] = [];
  await runBatches(
    network.forward,
    { count: samples.length, batchSize: network.batchSize, sampleSize: network.inSize },
    (batch, first, size) => {
      for (let row = 0; row < size; row++) {
        batch.set(samples[first + row]!.data, row * network.inSize);
      }
    },
    (output, _first, size, outputSize) => {
      for (let row = 0; row < size; row++) {
        const data = output.slice(row * outputSize, (row + 1) * outputSize);
        flat.push({ data, shape: experiment.outShape });
      }
    },
  );
  let next = 0;
  return images.map((image) => flat.slice(next, (next += image.samples.length)));
}

function checkSampleShape(experiment: LoadedExperiment, sample: PreprocessedSample): void {
  if (sample.shape.join() === experiment.inShape.join()) return;
  const name = sample.volume.header.source || 'the image';
  const frames = sample.volume.frameCount;
  if (frames > 1 && experiment.inShape[0] !== frames) {
    throw new UserError(
      `${name} contains ${frames} volumes (a 4D image), but the network takes one image of ` +
        `shape ${formatShape(experiment.inShape)}. Extract one volume first (for example ` +
        "with fslroi or nibabel's slicer).",
    );
  }
  throw new UserError(
    `After preprocessing, ${name} gives samples of shape ${formatShape(sample.shape)}, but ` +
      `the network takes ${formatShape(experiment.inShape)}. The image must match the ` +
      "training images' grid (voxel size and field of view) after the experiment's " +
      'transforms: resample and crop the image to that grid first, or train again with ' +
      'resample and cropOrPad steps in data.transforms.image.',
  );
}

/** Returns the prediction of one sample (number `index`) from the network's `output`. */
export function describeOutput(
  experiment: LoadedExperiment,
  output: InferenceVolume,
  index: number,
): SamplePrediction {
  const prediction: SamplePrediction = { index, output: output.data };
  if (experiment.task === 'classification') {
    const probabilities = softmax(output.data);
    prediction.probabilities = probabilities;
    prediction.predicted = probabilities.indexOf(Math.max(...probabilities));
  } else if (experiment.task === 'regression') {
    prediction.value = output.data[0]!;
  }
  return prediction;
}

/**
 * Returns the output as a volume on the input's grid: the label of largest score per voxel
 * for segmentation (resampled with nearest neighbours), the image itself for reconstruction
 * (resampled linearly). Voxels outside the preprocessed field of view get 0.
 */
function denseVolume(
  backend: ImageBackend,
  experiment: LoadedExperiment,
  output: InferenceVolume,
  grid: Volume,
  input: Volume,
): Volume {
  const [channels, ...spatial] = output.shape as number[];
  const [x, y, z] = [spatial[2]!, spatial[1]!, spatial[0]!];
  const segmentation = experiment.task === 'segmentation';
  const data = segmentation ? labelMap(output.data, channels!) : output.data;
  const frames = segmentation ? 1 : channels!;
  const shape = frames === 1 ? [x, y, z] : [x, y, z, frames];
  const onGrid = new Volume(data, shape, grid.affine, {
    ...grid.header,
    derivedBy: [...(grid.header.derivedBy ?? []), experiment.task],
  });
  if (sameGrid(onGrid, input)) return onGrid;
  const interpolation = segmentation ? 'nearest' : 'linear';
  return resampleToReference(backend, onGrid, input, { interpolation });
}

/**
 * Returns the channel of largest value per voxel of `[C, ...]` scores. A single channel is
 * read as the logit of the foreground, so the label is 1 where it is above 0.
 */
export function labelMap(scores: Float32Array, channels: number): Float32Array {
  const voxels = scores.length / channels;
  const labels = new Float32Array(voxels);
  if (channels === 1) {
    for (let voxel = 0; voxel < voxels; voxel++) labels[voxel] = scores[voxel]! > 0 ? 1 : 0;
    return labels;
  }
  for (let voxel = 0; voxel < voxels; voxel++) {
    let best = 0;
    for (let channel = 1; channel < channels; channel++) {
      if (scores[channel * voxels + voxel]! > scores[best * voxels + voxel]!) best = channel;
    }
    labels[voxel] = best;
  }
  return labels;
}
