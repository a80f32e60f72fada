// Messages between the page (main.ts) and its model worker (worker.ts). Every request carries
// an id; the worker responds with one 'done' or 'failed' message and, while it trains, with
// 'progress' messages of the same id. Everything here survives structured cloning.

import type { ExperimentTask } from '../experiment/load.js';

/** The source of an experiment folder. */
export type ModelSource =
  /** A served folder: `<base>files.json` lists the files and `<base><path>` returns one. */
  | { kind: 'url'; base: string; name: string }
  /** Files of a picked or dropped folder, by path relative to the folder. */
  | { kind: 'files'; files: { path: string; file: Blob }[]; name: string }
  /** A zip of the folder. */
  | { kind: 'zip'; file: Blob; name: string };

/** One labelled image to train on. */
export interface TrainingImage {
  name: string;
  file: Blob;
  /** Index into `classes`. */
  label: number;
}

export interface TrainRequest {
  images: TrainingImage[];
  classes: string[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Start from the loaded model's weights (fine-tuning) instead of a new initialisation. */
  fineTune: boolean;
  seed: number;
}

export type Request =
  | { id: number; type: 'load'; source: ModelSource }
  /** `image` is the .img of a .hdr/.img pair, when `file` is its .hdr. */
  | { id: number; type: 'predict'; file: Blob; name: string; image?: Blob }
  /** The saliency map of the last prediction's sample for one class. */
  | { id: number; type: 'saliency'; target: number }
  | { id: number; type: 'train'; options: TrainRequest }
  | { id: number; type: 'save' };

/** The loaded model, as the page shows it. */
export interface ModelInfo {
  /** The folder or archive the model came from. */
  source: string;
  modelName: string;
  network: string;
  task: ExperimentTask;
  inShape: number[];
  outShape: number[];
  classes: string[];
  selection: string;
  weightsPath: string;
  adapter: string;
}

/** A NIfTI-1 image for the viewer; niivue reads the format from the name's extension. */
export interface ViewerImage {
  name: string;
  bytes: Uint8Array;
}

/** An image drawn over the preprocessed image, on the same grid. */
export interface Overlay extends ViewerImage {
  kind: 'saliency' | 'labels' | 'reconstruction';
  /** Values shown, from transparent to full colour; default the viewer's robust range. */
  displayRange?: [number, number];
}

export interface Prediction {
  task: ExperimentTask;
  /** The network's raw output for the sample, row-major over `outShape`. */
  output: Float32Array;
  outShape: number[];
  /** Softmax of the class scores, for classification. */
  probabilities?: number[];
  /** Index of the most probable class, for classification. */
  predictedClass?: number;
  classes: string[];
  /** The preprocessed image (the network's input grid). */
  image: ViewerImage;
  /**
   * A label map or reconstruction on the image's grid. A classification's saliency map comes
   * from a separate 'saliency' request, and the page stores it here.
   */
  overlay?: Overlay;
  /** Wall time of preprocessing and of inference, in milliseconds. */
  preprocessMs: number;
  inferenceMs: number;
}

/** One epoch of training, sent while the worker trains. */
export interface TrainingProgress {
  epoch: number;
  epochs: number;
  loss: number;
  validationLoss?: number;
}

export interface TrainingResult {
  model: ModelInfo;
  history: TrainingProgress[];
}

export interface SavedExperiment {
  name: string;
  zip: Uint8Array;
}

/** A failure as the page receives it: the error's class name and message. */
export interface FailureInfo {
  name: string;
  message: string;
}

export type Response =
  | { id: number; type: 'done'; result: unknown }
  | { id: number; type: 'failed'; error: FailureInfo }
  | { id: number; type: 'progress'; progress: TrainingProgress };
