// An experiment folder with a voxel-wise network whose weights are known: one 3x3x3
// convolution whose centre taps copy the input. As a ReconstructionModel it gives back the
// preprocessed image, and as a SupervisedModel with two channels it segments the voxels above
// the mean. The images are cropped to CROP voxels, so outputs must be put back onto the grid,
// and it may take patches, whose outputs must be put back into the cropped image first.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { encodeSafetensors, type NamedTensor } from '../../src/training/safetensors.js';

export const CROP = [16, 14, 12];

const SOURCE = `
network Dense(inShape: ints = [1, 4, 4, 4], outChannels: int = 1) {
  input image: inShape
  output output = conv(image, outChannels, 3, padding: 1, name: "conv")
}
`;

/** Writes the folder to `root`; `task` chooses the model and the channels. */
export function writeDenseExperiment(
  root: string,
  task: 'reconstruction' | 'segmentation',
  extraction: { mode: 'patch'; patchSize: number[]; stride: number[] } | { mode: 'image' } = {
    mode: 'image',
  },
): void {
  const channels = task === 'segmentation' ? 2 : 1;
  const box = extraction.mode === 'patch' ? extraction.patchSize : CROP;
  const inShape = [1, box[2]!, box[1]!, box[0]!];
  const weight = new Float32Array(channels * 27);
  // The centre tap of the last channel copies the input; channel 0 of a segmentation is 0.
  weight[(channels - 1) * 27 + 13] = 1;
  const tensors = new Map<string, NamedTensor>([
    ['conv.weight', { dtype: 'F32', shape: [channels, 1, 3, 3, 3], data: weight }],
    ['conv.bias', { dtype: 'F32', shape: [channels], data: new Float32Array(channels) }],
  ]);

  const experiment = {
    mapsVersion: 1,
    model: {
      name: task === 'segmentation' ? 'SupervisedModel' : 'ReconstructionModel',
      network: {
        netFile: 'dense.net',
        network: 'Dense',
        set: [`inShape=[${inShape.join(', ')}]`, `outChannels=${channels}`],
      },
      inferer: null,
    },
    network: 'networks/network.net',
    trainer: { selection: ['loss'] },
    data: {
      classes: [],
      transforms: { image: [{ op: 'zScore' }, { op: 'cropOrPad', shape: CROP }], extraction },
    },
  };

  mkdirSync(join(root, 'networks'), { recursive: true });
  mkdirSync(join(root, 'split-0', 'best-loss'), { recursive: true });
  writeFileSync(join(root, 'experiment.json'), JSON.stringify(experiment));
  writeFileSync(join(root, 'networks', 'network.net'), SOURCE);
  writeFileSync(
    join(root, 'split-0', 'best-loss', 'model.safetensors'),
    encodeSafetensors(tensors),
  );
}

/** Returns the z-score of `data` (population std over every voxel), in float64. */
export function zScored(data: Float32Array): Float64Array {
  let mean = 0;
  for (const value of data) mean += value;
  mean /= data.length;
  let variance = 0;
  for (const value of data) variance += (value - mean) ** 2;
  const std = Math.sqrt(variance / data.length);
  return Float64Array.from(data, (value) => (value - mean) / std);
}

/** Returns whether voxel (i, j, k) of a grid of `dims` lies in the centred crop window. */
export function insideCrop(dims: readonly number[], i: number, j: number, k: number): boolean {
  return [i, j, k].every((index, axis) => {
    const start = Math.floor((dims[axis]! - CROP[axis]!) / 2);
    return index >= start && index < start + CROP[axis]!;
  });
}

const SUM_SOURCE = `
network SumClassifier(inShape: ints = [1, 8, 8, 8]) {
  input image: inShape
  output output = linear(flatten(image), 2, name: "fc")
}
`;

/**
 * Writes a classifier of 8x8x8 patches (cut every 8 voxels) whose score for class 1 (AD) is
 * the sum of the patch's voxels and class 0 (CN) scores 0.
 */
export function writePatchClassifier(root: string): void {
  writeSumClassifier(root, [1, 8, 8, 8], { mode: 'patch', patchSize: 8 });
}

/**
 * Writes the same classifier for the slices across y (axis 1) of 22 x 26 x 23 images, the 3
 * first and last slices left out: 20 slices of `[1, 23, 22]`.
 */
export function writeSliceClassifier(root: string): void {
  writeSumClassifier(root, [1, 23, 22], { mode: 'slice', axis: 1, discarded: 3 });
}

function writeSumClassifier(root: string, inShape: number[], extraction: unknown): void {
  const size = inShape.reduce((total, length) => total * length, 1);
  const weight = new Float32Array(2 * size);
  weight.fill(1, size);
  const tensors = new Map<string, NamedTensor>([
    ['fc.weight', { dtype: 'F32', shape: [2, size], data: weight }],
    ['fc.bias', { dtype: 'F32', shape: [2], data: new Float32Array(2) }],
  ]);
  const experiment = {
    mapsVersion: 1,
    model: {
      name: 'SupervisedModel',
      network: {
        netFile: 'sum.net',
        network: 'SumClassifier',
        set: [`inShape=[${inShape.join(', ')}]`],
      },
      inferer: null,
    },
    network: 'networks/network.net',
    trainer: { selection: ['loss'] },
    data: {
      label: 'diagnosis',
      classes: ['CN', 'AD'],
      transforms: { image: [], extraction },
    },
  };

  mkdirSync(join(root, 'networks'), { recursive: true });
  mkdirSync(join(root, 'split-0', 'best-loss'), { recursive: true });
  writeFileSync(join(root, 'experiment.json'), JSON.stringify(experiment));
  writeFileSync(join(root, 'networks', 'network.net'), SUM_SOURCE);
  writeFileSync(
    join(root, 'split-0', 'best-loss', 'model.safetensors'),
    encodeSafetensors(tensors),
  );
}
