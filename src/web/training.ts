// Training in the page's worker: the loaded experiment's network and preprocessing, trained
// (from a new initialisation or from the loaded weights) on labelled NIfTI files with the
// same Trainer as Node, writing the experiment folder to memory. The result becomes the
// worker's model and can be saved as a zip that `clinicadl-webgpu predict` and the Node
// loader read.

import { MemoryLoader, type MemorySample } from '../data/memory-loader.js';
import { loadEmbeddedKernels } from '../data/wasm/embedded.js';
import { UserError } from '../errors.js';
import { memoryExperimentFiles } from '../experiment/files.js';
import { loadExperiment, type LoadedExperiment } from '../experiment/load.js';
import { preprocessImage } from '../experiment/preprocessing.js';
import { SupervisedModel } from '../models/supervised.js';
import type { NetNetwork } from '../models/network.js';
import { memoryStorage, type MemoryStorage } from '../training/storage.js';
import { Trainer } from '../training/trainer.js';
import { bundledCatalogue } from './catalogue.js';
import { readPageVolume } from './page-volume.js';
import type {
  ModelInfo,
  SavedExperiment,
  TrainingProgress,
  TrainingResult,
  TrainRequest,
} from './protocol.js';
import type { ModelSession } from './session.js';

/** The selection metric of page training: validation loss, which needs no class balance. */
const SELECTION = 'loss';

export class TrainingSession {
  private storage: MemoryStorage | undefined;
  private name = 'experiment';

  constructor(private readonly session: ModelSession) {}

  /**
   * Trains the loaded experiment's network on `options.images` and makes the result the
   * session's model. The images are also the validation set, because a few dropped files
   * leave nothing to hold out; the saved folder's metrics are therefore training metrics.
   */
  async train(
    options: TrainRequest,
    onProgress: (progress: TrainingProgress) => void,
  ): Promise<TrainingResult> {
    const base = this.session.experiment;
    if (base === undefined) {
      throw new UserError(
        'Load a model first: training in the page uses its network and preprocessing.',
      );
    }
    checkRequest(options);
    if (base.modelName !== 'SupervisedModel' || base.task !== 'classification') {
      throw new UserError(
        `The page trains classification networks only; ${base.files.name} is a ` +
          `${base.modelName} for ${base.task}. Train it with \`clinicadl-webgpu train\`.`,
      );
    }
    const outputs = base.outShape[0]!;
    if (options.classes.length !== outputs) {
      throw new UserError(
        `The network of the loaded model has ${outputs} class outputs, but ` +
          `${options.classes.length} classes are given (${options.classes.join(', ')}). The ` +
          'loaded network fixes the number of outputs, also when training from scratch: name ' +
          `${outputs} classes, or load a model whose network has ${options.classes.length} outputs.`,
      );
    }
    const samples = await this.readSamples(base, options);
    const gpu = await this.session.device();
    const model = new SupervisedModel({
      ...(base.experiment.model as Record<string, unknown>),
      network: browserNetwork(base),
      optimizer: {
        ...((base.experiment.model as { optimizer?: object }).optimizer ?? { name: 'Adam' }),
        lr: options.learningRate,
      },
      labelKey: 'label',
    } as ConstructorParameters<typeof SupervisedModel>[0]);
    const { batchSize, seed, epochs } = options;
    if (options.fineTune) {
      await model.compile({ gpu, batchSize, seed });
      model.writeState(base.weights);
    }
    const storage = memoryStorage();
    const history: TrainingProgress[] = [];
    const trainer = new Trainer({
      maps: storage,
      model,
      gpu,
      config: { epochs, batchSize, seed, metrics: ['loss', 'accuracy'], selection: [SELECTION] },
      data: dataSection(base, options),
      callbacks: [
        {
          onEpochEnd: (record) => {
            const progress: TrainingProgress = {
              epoch: record.epoch + 1,
              epochs,
              loss: record.train.loss ?? Number.NaN,
              ...(record.validation.loss !== undefined
                ? { validationLoss: record.validation.loss }
                : {}),
            };
            history.push(progress);
            onProgress(progress);
          },
        },
      ],
    });
    await trainer.train({
      train: new MemoryLoader(samples, { batchSize, seed }),
      validation: new MemoryLoader(samples, { batchSize }),
    });
    model.release();
    this.storage = storage;
    this.name = `${base.network.name ?? 'network'}-trained`;
    const files = memoryExperimentFiles(storage.files, 'the experiment trained in the page');
    await this.session.use(await loadExperiment(files, { imports: bundledCatalogue }));
    const info: ModelInfo = this.session.describe();
    return { model: info, history };
  }

  /** Returns the last trained experiment folder as a zip. */
  async save(): Promise<SavedExperiment> {
    if (this.storage === undefined) {
      throw new UserError('Nothing to save: train a model in the page first.');
    }
    return { name: `${this.name}.zip`, zip: this.storage.toZip() };
  }

  private async readSamples(
    base: LoadedExperiment,
    options: TrainRequest,
  ): Promise<MemorySample[]> {
    const kernels = await loadEmbeddedKernels();
    const transforms = base.preprocessing?.transforms;
    const samples: MemorySample[] = [];
    for (const image of options.images) {
      const volume = await readPageVolume(image.file, image.name);
      const prepared = transforms
        ? preprocessImage(kernels, volume, { transforms })
        : { samples: [{ data: volume.data, shape: [1, ...volume.shape.slice(0, 3).reverse()] }] };
      for (const sample of prepared.samples) {
        if (sample.shape.join() !== base.inShape.join()) {
          throw new UserError(
            `${image.name} preprocesses to shape [${sample.shape.join(', ')}], but the network ` +
              `takes [${base.inShape.join(', ')}]; give images like the model's training images.`,
          );
        }
        samples.push({
          image: sample.data,
          shape: sample.shape,
          label: image.label,
          participant_id: image.name,
        });
      }
    }
    return samples;
  }
}

/** Checks the request's numbers and labels. */
function checkRequest(options: TrainRequest): void {
  if (options.images.length === 0) {
    throw new UserError('Add at least one labelled NIfTI image to train on.');
  }
  const integers: [string, number, number][] = [
    ['epochs', options.epochs, 1],
    ['batch size', options.batchSize, 1],
    ['seed', options.seed, 0],
  ];
  for (const [name, value, min] of integers) {
    if (!Number.isInteger(value) || value < min) {
      throw new UserError(`The ${name} ${value} is invalid: expected an integer >= ${min}.`);
    }
  }
  if (!(options.learningRate > 0) || !Number.isFinite(options.learningRate)) {
    throw new UserError(
      `The learning rate ${options.learningRate} is invalid: expected a number > 0.`,
    );
  }
  for (const image of options.images) {
    if (
      !Number.isInteger(image.label) ||
      image.label < 0 ||
      image.label >= options.classes.length
    ) {
      throw new UserError(
        `${image.name} has no valid label: choose one of ${options.classes.join(', ')}.`,
      );
    }
  }
}

/**
 * Returns the loaded network as .net source with its imports, which builds in a browser: the path of
 * each imported file relative to the network's own folder, as its import statement writes it.
 */
export function browserNetwork(experiment: LoadedExperiment): NetNetwork {
  const net = experiment.network.net;
  if (net === undefined) {
    throw new UserError(
      `${experiment.files.name} has a network config JSON; the page trains .net networks only.`,
    );
  }
  const folder = net.root.includes('/') ? net.root.slice(0, net.root.lastIndexOf('/') + 1) : '';
  const netImports: Record<string, string> = {};
  for (const [path, source] of net.sources) {
    if (path === net.root) continue;
    netImports[path.startsWith(folder) ? path.slice(folder.length) : path] = source;
  }
  return {
    netSource: net.sources.get(net.root)!,
    netImports,
    ...(experiment.network.name !== undefined ? { network: experiment.network.name } : {}),
    set: experiment.network.set,
  };
}

/** Returns the data section for experiment.json, so loaders preprocess new images alike. */
function dataSection(base: LoadedExperiment, options: TrainRequest): Record<string, unknown> {
  return {
    dataset: 'files dropped in the page',
    label: base.preprocessing?.label ?? 'label',
    classes: options.classes,
    transforms: base.preprocessing?.transforms ?? { image: [] },
    images: options.images.map((image) => ({
      name: image.name,
      label: options.classes[image.label],
    })),
  };
}
