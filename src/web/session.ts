// The model worker's state: one GPU device, the Wasm image kernels, and the loaded experiment
// compiled for inference. load() reads an experiment folder, predict() runs one NIfTI volume
// through the experiment's preprocessing and network and builds what the page shows.

import type { ImageKernels } from '../data/wasm/kernels.js';
import { loadEmbeddedKernels } from '../data/wasm/embedded.js';
import { UserError } from '../errors.js';
import { compileInference, type InferenceNetwork } from '../experiment/inference.js';
import { loadExperiment, type LoadedExperiment } from '../experiment/load.js';
import { preprocessImage, type PreprocessedImage } from '../experiment/preprocessing.js';
import { numElements } from '../graph/ir.js';
import { acquireGpu, describeAdapter } from '../runtime/device.js';
import type { Gpu } from '../runtime/gpu.js';
import { bundledCatalogue } from './catalogue.js';
import { explainLimits } from './limits.js';
import { readPageVolume } from './page-volume.js';
import { experimentFiles } from './experiment-source.js';
import { argMax, labelMap, percentile, softmax, viewerImage } from './outputs.js';
import type { ModelInfo, ModelSource, Overlay, Prediction } from './protocol.js';
import { saliencyOverlay } from './saliency.js';

export class ModelSession {
  private gpu: Promise<Gpu> | undefined;
  private kernels: Promise<ImageKernels> | undefined;
  /** The current model; undefined until one is loaded. */
  experiment: LoadedExperiment | undefined;
  private network: InferenceNetwork | undefined;
  private adapter = '';
  /** The last predicted sample, which a saliency request explains. */
  private lastSample:
    | { experiment: LoadedExperiment; grid: PreprocessedImage['volume']; input: Float32Array }
    | undefined;

  /**
   * Acquires the device once; a failure is retried on the next call. When the device is lost,
   * the model compiled on it is dropped too, so the next load starts on a new device.
   */
  device(): Promise<Gpu> {
    if (this.gpu !== undefined) return this.gpu;
    const acquired = acquireGpu().then(
      (gpu) => {
        gpu.lost.catch(() => this.forget(acquired));
        return gpu;
      },
      (error: unknown) => {
        this.forget(acquired);
        throw error;
      },
    );
    this.gpu = acquired;
    return acquired;
  }

  private forget(gpu: Promise<Gpu>): void {
    if (this.gpu !== gpu) return;
    this.gpu = undefined;
    this.experiment = undefined;
    this.network = undefined;
    this.lastSample = undefined;
  }

  private imageKernels(): Promise<ImageKernels> {
    this.kernels ??= loadEmbeddedKernels();
    return this.kernels;
  }

  /** Loads the experiment of `source` and compiles its network for batches of one. */
  async load(source: ModelSource): Promise<ModelInfo> {
    const files = await experimentFiles(source);
    const experiment = await loadExperiment(files, { imports: bundledCatalogue });
    await this.use(experiment);
    return this.describe();
  }

  /** Makes `experiment` the current model, compiling it on this worker's device. */
  async use(experiment: LoadedExperiment): Promise<void> {
    const gpu = await this.device();
    const network = await explainLimits(compileInference(gpu, experiment), experiment);
    this.adapter = describeAdapter(gpu.adapterInfo);
    this.experiment = experiment;
    this.network = network;
  }

  /** Returns the current model as the page shows it. */
  describe(): ModelInfo {
    const experiment = this.requireModel();
    return {
      source: experiment.files.name,
      modelName: experiment.modelName,
      network: experiment.network.name ?? experiment.network.net?.root ?? 'network',
      task: experiment.task,
      inShape: experiment.inShape,
      outShape: experiment.outShape,
      classes: experiment.preprocessing?.classes ?? [],
      selection: experiment.selection,
      weightsPath: experiment.weightsPath,
      adapter: this.adapter,
    };
  }

  private requireModel(): LoadedExperiment {
    if (this.experiment === undefined) {
      throw new UserError('No model is loaded: choose an experiment folder or its zip first.');
    }
    return this.experiment;
  }

  /** Reads, preprocesses and runs one NIfTI volume. */
  async predict(file: Blob, name: string, image?: Blob): Promise<Prediction> {
    const started = performance.now();
    // The file is read first, so a file that is not NIfTI is named even before a model loads.
    const volume = await readPageVolume(file, name, image ? { image } : {});
    const experiment = this.requireModel();
    const network = this.network!;
    const prepared = preprocess(await this.imageKernels(), volume, experiment, name);
    const sample = prepared.samples[0]!;
    const preprocessed = performance.now();
    const output = await network.forward(sample.data);
    const inferenceMs = performance.now() - preprocessed;
    const prediction: Prediction = {
      task: experiment.task,
      output,
      outShape: experiment.outShape,
      classes: experiment.preprocessing?.classes ?? [],
      image: viewerImage(sample.volume, sample.volume.data, 'input.nii'),
      preprocessMs: preprocessed - started,
      inferenceMs,
    };
    this.addOverlay(prediction, sample.volume);
    this.lastSample = { experiment, grid: sample.volume, input: sample.data };
    return prediction;
  }

  /**
   * Returns the saliency overlay of the last prediction's sample for class `target`: a second
   * request, so the page shows the class probabilities before the backward pass has run.
   */
  async saliency(target: number): Promise<Overlay> {
    const sample = this.lastSample;
    if (sample === undefined || sample.experiment !== this.experiment) {
      throw new UserError('No prediction to explain: run the current model on a volume first.');
    }
    const gpu = await this.device();
    const saliency = await explainLimits(
      saliencyOverlay(gpu, sample.experiment, sample.input, target),
      sample.experiment,
    );
    return {
      ...viewerImage(sample.grid, saliency, 'saliency.nii'),
      kind: 'saliency',
      displayRange: saliencyRange(saliency),
    };
  }

  private addOverlay(prediction: Prediction, grid: PreprocessedImage['volume']): void {
    const { output } = prediction;
    const voxels = numElements(grid.shape.slice(0, 3));
    switch (prediction.task) {
      case 'classification':
        prediction.probabilities = softmax(output);
        prediction.predictedClass = argMax(output);
        return;
      case 'segmentation':
        prediction.overlay = {
          ...viewerImage(grid, labelMap(output, voxels), 'labels.nii'),
          kind: 'labels',
        };
        return;
      case 'reconstruction':
        prediction.overlay = {
          ...viewerImage(grid, output.slice(0, voxels), 'reconstruction.nii'),
          kind: 'reconstruction',
        };
        return;
      case 'regression':
        return;
    }
  }
}

/** The share of voxels the saliency overlay colours: those of the largest gradients. */
const SALIENCY_SHOWN = 0.1;

/** Shows the top SALIENCY_SHOWN of the voxels, so the overlay marks regions, not the head. */
function saliencyRange(saliency: Float32Array): [number, number] {
  const low = percentile(saliency, 1 - SALIENCY_SHOWN);
  const high = percentile(saliency, 1);
  return [low, high > low ? high : low + 1];
}

/**
 * Runs the experiment's preprocessing on `volume`. The page runs whole-image models: an
 * experiment that cuts each image into several patches or slices needs an Inferer to blend
 * them, which `clinicadl-webgpu predict` runs.
 */
function preprocess(
  kernels: ImageKernels,
  volume: Parameters<typeof preprocessImage>[1],
  experiment: LoadedExperiment,
  name: string,
): PreprocessedImage {
  const transforms = experiment.preprocessing?.transforms ?? {
    image: [],
    extraction: { mode: 'image' as const },
    sample: [],
  };
  const prepared = preprocessImage(kernels, volume, { transforms });
  const sample = prepared.samples[0];
  if (prepared.samples.length !== 1 || sample === undefined) {
    throw new UserError(
      `${name} gives ${prepared.samples.length} samples (${transforms.extraction.mode} ` +
        'extraction), but the page runs models on whole images only. Use ' +
        '`clinicadl-webgpu predict` for patch and slice models.',
    );
  }
  if (sample.shape.join() !== experiment.inShape.join()) {
    throw new UserError(
      `${name} preprocesses to shape [${sample.shape.join(', ')}], but the network takes ` +
        `[${experiment.inShape.join(', ')}]. Give an image with the same size and voxel ` +
        'spacing as the training images, or add a cropOrPad step to the training transforms.',
    );
  }
  return prepared;
}
