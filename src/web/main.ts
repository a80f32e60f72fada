// The browser application: it loads an experiment (the one served beside the page, or a folder
// or zip chosen or dropped), runs it on a NIfTI volume in the model worker and shows the
// result in the viewer. It also trains the loaded network on labelled volumes.
//
// window.clinicadlWeb records the page's state (the last model, prediction, error and
// training history), so that scripts and tests can read the results that the page shows.

import { ModelClient } from './client.js';
import { folderSource, pairVolumeFiles, readDrop } from './drop.js';
import { LossChart } from './loss-chart.js';
import type {
  ModelInfo,
  ModelSource,
  Prediction,
  TrainingProgress,
  TrainRequest,
} from './protocol.js';
import {
  addImages,
  labelIndices,
  parseClasses,
  readNumberField,
  relabelImages,
  unlabelledWarning,
  type TrainingImage,
} from './training-list.js';
import { Viewer } from './viewer.js';

export interface PageState {
  /** 'busy' while a request runs, 'ready' otherwise. */
  state: 'starting' | 'busy' | 'ready';
  model?: ModelInfo;
  prediction?: Prediction;
  /** The error shown, with its class name; removed when the next request starts. */
  error?: { name: string; message: string };
  history: TrainingProgress[];
  /**
   * Incremented when the start-up finishes (the served model loaded, or found missing) and
   * when each later request finishes, so a caller can wait for the next one.
   */
  finished: number;
}

declare global {
  interface Window {
    clinicadlWeb: PageState;
  }
}

const NO_WEBGPU =
  'This browser has no WebGPU (navigator.gpu is undefined), so it cannot run the models. ' +
  'Use Chrome or Edge 113 or later, or Chromium started with --enable-unsafe-webgpu.';

const page: PageState = { state: 'starting', history: [], finished: 0 };
window.clinicadlWeb = page;

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const client = new ModelClient(new URL('./worker.js', import.meta.url));
const viewer = new Viewer(element<HTMLCanvasElement>('viewer-canvas'));
const chart = new LossChart(element('loss-chart'));
let trainingImages: TrainingImage[] = [];

// ---- status and errors ----

function setStatus(text: string, state: PageState['state']): void {
  const status = element('status');
  status.textContent = text;
  status.dataset.state = state;
  page.state = state;
}

function hideError(): void {
  delete page.error;
  element('error').hidden = true;
}

function showError(error: unknown): void {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  page.error = { name, message };
  const box = element('error');
  box.textContent = message;
  box.hidden = false;
}

/** Runs one request with the page marked busy, showing its error if it fails. */
async function busy<T>(label: string, work: () => Promise<T>): Promise<T | undefined> {
  hideError();
  setStatus(label, 'busy');
  try {
    return await work();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    setStatus(page.model ? `Model: ${page.model.network} (${page.model.task})` : 'Ready', 'ready');
    page.finished += 1;
  }
}

// ---- model ----

async function loadModel(source: ModelSource): Promise<void> {
  // The result of the previous model is cleared first, whether or not the new one loads.
  clearPrediction();
  // The model is shown inside the request, so the status set when it ends names it.
  await busy(`Loading ${source.name}…`, async () => showModel(await client.load(source)));
}

function showModel(info: ModelInfo): void {
  page.model = info;
  const classes = info.classes.length > 0 ? `; classes ${info.classes.join(', ')}` : '';
  element('model-info').textContent =
    `${info.modelName} ${info.network} for ${info.task} from ${info.source} ` +
    `(${info.weightsPath}); input [${info.inShape.join(', ')}]${classes}. ` +
    `Adapter: ${info.adapter}.`;
  if (info.classes.length > 0) element<HTMLInputElement>('classes').value = info.classes.join(', ');
  updateClasses();
}

/** Loads the experiment served beside the page, when there is one. */
async function loadServedModel(): Promise<void> {
  const base = new URL('./experiment/', location.href);
  const list = await fetch(new URL('files.json', base), { method: 'HEAD' }).catch(() => null);
  if (list === null || !list.ok) {
    setStatus('No model served with the page: choose an experiment folder or zip.', 'ready');
    page.finished += 1;
    return;
  }
  await loadModel({ kind: 'url', base: base.href, name: 'the served experiment' });
}

// ---- prediction ----

/** Hides the last prediction and removes it from the viewer. */
function clearPrediction(): void {
  delete page.prediction;
  element('prediction').hidden = true;
  void viewer.clear().catch(showError);
}

/** Runs the model on the first volume of `files` (a .hdr and its .img are one volume). */
async function predict(files: File[]): Promise<void> {
  clearPrediction();
  const { file, image } = pairVolumeFiles(files)[0]!;
  const prediction = await busy(`Running the model on ${file.name}…`, () =>
    client.predict(file, file.name, image),
  );
  if (prediction === undefined) return;
  page.prediction = prediction;
  showPrediction(prediction, file.name);
  await viewer.show(prediction).catch(showError);
  if (prediction.task !== 'classification') return;
  const overlay = await busy('Computing the saliency map…', () =>
    client.saliency(prediction.predictedClass!),
  );
  if (overlay === undefined || page.prediction !== prediction) return;
  prediction.overlay = overlay;
  showPrediction(prediction, file.name);
  await viewer.show(prediction).catch(showError);
}

function showPrediction(prediction: Prediction, name: string): void {
  element('prediction').hidden = false;
  const body = element('probabilities').querySelector('tbody')!;
  body.replaceChildren();
  let summary = `${name}: ${prediction.task}`;
  if (prediction.probabilities !== undefined) {
    prediction.probabilities.forEach((probability, index) => {
      const row = body.insertRow();
      if (index === prediction.predictedClass) row.className = 'predicted';
      row.insertCell().textContent = prediction.classes[index] ?? `class ${index}`;
      row.insertCell().textContent = probability.toFixed(4);
    });
    const predicted = prediction.predictedClass!;
    summary += `, predicted ${prediction.classes[predicted] ?? `class ${predicted}`}`;
  } else if (prediction.task === 'regression') {
    summary += `, value ${prediction.output[0]!.toPrecision(5)}`;
  }
  if (prediction.overlay) summary += `; overlay: ${prediction.overlay.kind}`;
  element('prediction-summary').textContent = summary;
  element('timing').textContent =
    `Preprocessing ${prediction.preprocessMs.toFixed(0)} ms, inference ` +
    `${prediction.inferenceMs.toFixed(0)} ms.`;
}

// ---- training ----

function classNames(): string[] {
  return parseClasses(element<HTMLInputElement>('classes').value);
}

/** Keeps each image's class by name after the Classes field changes, and warns of lost ones. */
function updateClasses(): void {
  const classes = classNames();
  const { images, unlabelled } = relabelImages(trainingImages, classes);
  trainingImages = images;
  const warning = element('train-warning');
  warning.textContent = unlabelledWarning(unlabelled, classes);
  warning.hidden = unlabelled.length === 0;
  renderTrainingList();
}

function renderTrainingList(): void {
  const body = element('train-list').querySelector('tbody')!;
  body.replaceChildren();
  const classes = classNames();
  trainingImages.forEach((image, index) => {
    const row = body.insertRow();
    row.insertCell().textContent = image.file.name;
    const select = document.createElement('select');
    select.setAttribute('aria-label', `label of ${image.file.name}`);
    if (image.label === undefined) select.add(new Option('choose a class', ''));
    for (const name of classes) select.add(new Option(name));
    select.value = image.label ?? '';
    select.addEventListener('change', () => {
      trainingImages[index] = { file: image.file, label: select.value || undefined };
    });
    row.insertCell().append(select);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `remove ${image.file.name}`);
    remove.addEventListener('click', () => {
      trainingImages = trainingImages.filter((_, other) => other !== index);
      renderTrainingList();
    });
    row.insertCell().append(remove);
  });
  element<HTMLButtonElement>('clear-train').disabled = trainingImages.length === 0;
}

function addTrainingFiles(files: File[]): void {
  const { images, errors } = addImages(trainingImages, files, classNames());
  trainingImages = images;
  renderTrainingList();
  hideError();
  if (errors.length > 0) showError(errors.length === 1 ? errors[0] : joinErrors(errors));
}

function joinErrors(errors: Error[]): Error {
  const joined = new Error(errors.map((error) => error.message).join('\n'));
  joined.name = errors[0]!.name;
  return joined;
}

function clearTrainingImages(): void {
  trainingImages = [];
  element('train-warning').hidden = true;
  renderTrainingList();
}

/** Reads the training form; an empty or non-numeric field throws a UserError naming it. */
function trainingRequest(): TrainRequest {
  const field = (label: string, id: string) =>
    readNumberField(label, element<HTMLInputElement>(id).value);
  const classes = classNames();
  const labels = labelIndices(trainingImages, classes);
  return {
    images: trainingImages.map((image, index) => ({
      name: image.file.name,
      file: image.file,
      label: labels[index]!,
    })),
    classes,
    epochs: field('Epochs', 'epochs'),
    batchSize: field('Batch', 'batch-size'),
    learningRate: field('Learning rate', 'learning-rate'),
    fineTune: element<HTMLInputElement>('fine-tune').checked,
    seed: 0,
  };
}

async function train(): Promise<void> {
  // The previous loss curve stays until the first epoch of a run that passed validation.
  let started = false;
  const onProgress = (progress: TrainingProgress) => {
    if (!started) {
      started = true;
      page.history = [];
      chart.clear();
      element('loss-chart').hidden = false;
    }
    page.history.push(progress);
    chart.add(progress);
    setStatus(`Training: epoch ${progress.epoch}/${progress.epochs}`, 'busy');
  };
  await busy('Training…', async () => {
    const result = await client.train(trainingRequest(), onProgress);
    showModel(result.model);
    element<HTMLButtonElement>('save').disabled = false;
  });
}

async function save(): Promise<void> {
  const saved = await busy('Writing the zip…', () => client.save());
  if (saved === undefined) return;
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([saved.zip as BlobPart], { type: 'application/zip' }));
  link.download = saved.name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

// ---- inputs ----

function onFiles(id: string, handle: (files: File[]) => void): void {
  const input = element<HTMLInputElement>(id);
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length > 0) handle(files);
  });
}

onFiles('model-folder', (files) => void loadModel(folderSource(files)));
onFiles('model-zip', ([file]) => void loadModel({ kind: 'zip', file: file!, name: file!.name }));
onFiles('volume-file', (files) => void predict(files));
onFiles('train-files', addTrainingFiles);
element('classes').addEventListener('change', updateClasses);
element('clear-train').addEventListener('click', clearTrainingImages);
element('train').addEventListener('click', () => void train());
element('save').addEventListener('click', () => void save());

document.addEventListener('dragover', (event) => {
  event.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', (event) => {
  event.preventDefault();
  document.body.classList.remove('dragging');
  if (event.dataTransfer === null) return;
  const toTraining = element('train-panel').contains(event.target as Node);
  void readDrop(event.dataTransfer).then(async (inputs) => {
    for (const input of inputs) {
      if (input.kind === 'model') await loadModel(input.source);
      else if (toTraining) addTrainingFiles(input.files);
      else await predict(input.files);
    }
  });
});

if (!('gpu' in navigator) || navigator.gpu === undefined) {
  showError(Object.assign(new Error(NO_WEBGPU), { name: 'GpuError' }));
  setStatus('No WebGPU', 'ready');
  page.finished += 1;
} else {
  void loadServedModel();
}
