// Experiment folders built in memory for the loader tests: the catalogue CNN at a tiny size,
// weights with the network's state_dict names and shapes, and the files the trainer writes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { catalogueFolder } from '../../src/dsl/catalogue.js';
import { compileNetFile } from '../../src/dsl/compile.js';
import { memoryHost } from '../../src/dsl/modules.js';
import { numElements } from '../../src/graph/ir.js';
import { encodeSafetensors, type NamedTensor } from '../../src/training/safetensors.js';

export const IN_SHAPE = [1, 6, 7, 5];
export const SETTINGS = [
  `inShape=[${IN_SHAPE.join(', ')}]`,
  'numOutputs=2',
  'convArgs={channels: [2], padding: 1, poolingIndices: [0], norm: none}',
];
export const CNN_SOURCE = readFileSync(join(catalogueFolder(), 'cnn.net'), 'utf8');
export const COMMON_SOURCE = readFileSync(join(catalogueFolder(), 'common.net'), 'utf8');

export const DATA = {
  dataset: '/data/trivial',
  label: 'diagnosis',
  classes: ['CN', 'AD'],
  transforms: { image: [{ op: 'zScore' }], extraction: { mode: 'image' }, sample: [] },
};

/** Returns state tensors for the fixture network, values from a fixed pattern. */
export function fixtureWeights(settings = SETTINGS): Map<string, NamedTensor> {
  const host = memoryHost({ 'cnn.net': CNN_SOURCE, 'common.net': COMMON_SOURCE });
  const graph = compileNetFile(host, 'cnn.net', { network: 'CNN', set: settings }).graph;
  const tensors = new Map<string, NamedTensor>();
  for (const value of graph.stateValues()) {
    const data = Float32Array.from({ length: numElements(value.shape) }, (_, i) =>
      Math.sin(i + value.id),
    );
    tensors.set(value.name!, { dtype: 'F32', shape: [...value.shape], data });
  }
  return tensors;
}

export interface FixtureOptions {
  mapsVersion?: number;
  /** experiment.json 'data'; default DATA. */
  data?: unknown;
  withCommon?: boolean;
  trainConfig?: unknown;
  weights?: Map<string, NamedTensor>;
}

/** Returns the files of a trained experiment folder, by relative path. */
export function fixtureFolder(options: FixtureOptions = {}): Map<string, Uint8Array | string> {
  const experiment = {
    mapsVersion: options.mapsVersion ?? 1,
    model: {
      name: 'SupervisedModel',
      network: { netFile: '/elsewhere/cnn.net', network: 'CNN', set: SETTINGS },
      labelKey: 'label',
      imageKey: 'image',
      inferer: null,
    },
    network: 'networks/network.net',
    trainer: { selection: ['loss', 'balancedAccuracy'] },
    data: options.data === undefined ? DATA : options.data,
  };
  const weights = encodeSafetensors(options.weights ?? fixtureWeights());
  const files = new Map<string, Uint8Array | string>([
    ['experiment.json', JSON.stringify(experiment)],
    ['networks/network.net', CNN_SOURCE],
    ['split-0/best-loss/model.safetensors', weights],
    ['split-0/best-balancedAccuracy/model.safetensors', weights],
  ]);
  if (options.withCommon ?? true) files.set('networks/common.net', COMMON_SOURCE);
  if (options.trainConfig !== undefined) {
    files.set('train-config.json', JSON.stringify(options.trainConfig));
  }
  return files;
}
