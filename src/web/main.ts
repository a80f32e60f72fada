// The browser application: it loads an experiment (the one served beside the page, or a folder
// or zip chosen or dropped), runs it on a NIfTI volume in the model worker and shows the
// result in the viewer. It also trains the loaded network on labelled volumes.
//
// window.clinicadlWeb records the page's state (the last model, prediction, error and
// training history), so that scripts and tests can read the results that the page shows.

import { ModelClient } from './client.js';
import { folderSource, readDrop } from './drop.js';
import { LossChart } from './loss-chart.js';
import type { ModelInfo, ModelSource, Prediction, TrainingProgress } from './protocol.js';
import { Viewer } from './viewer.js';

export interface PageState {
  /** 'busy' while a request runs, 'ready' otherwise. */
  state: 'starting' | 'busy' | 'ready';
  model?: ModelInfo;
  prediction?: Prediction;
  /** The last error shown, with its class name. */
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
let trainingFiles: File[] = [];

// ---- status and errors ----

function setStatus(text: string, state: PageState['state']): void {
  const status = element('status');
  status.textContent = text;
  status.dataset.state = state;
  page.state = state;
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
  element('error').hidden = true;
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
  const info = await busy(`Loading ${source.name}…`, () => client.load(source));
  if (info !== undefined) showModel(info);
}

function showModel(info: ModelInfo): void {
  page.model = info;
  const classes = info.classes.length > 0 ? `; classes ${info.classes.join(', ')}` : '';
  element('model-info').textContent =
    `${info.modelName} ${info.network} for ${info.task} from ${info.source} ` +
    `(${info.weightsPath}); input [${info.inShape.join(', ')}]${classes}. ` +
    `Adapter: ${info.adapter}.`;
  if (info.classes.length > 0) element<HTMLInputElement>('classes').value = info.classes.join(', ');
  renderTrainingList();
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

async function predict(file: File): Promise<void> {
  const prediction = await busy(`Running the model on ${file.name}…`, () =>
    client.predict(file, file.name),
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
  return element<HTMLInputElement>('classes')
    .value.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

function renderTrainingList(): void {
  const body = element('train-list').querySelector('tbody')!;
  const previous = [...body.querySelectorAll('select')].map((select) => select.selectedIndex);
  body.replaceChildren();
  const classes = classNames();
  trainingFiles.forEach((file, index) => {
    const row = body.insertRow();
    row.insertCell().textContent = file.name;
    const select = document.createElement('select');
    select.setAttribute('aria-label', `label of ${file.name}`);
    for (const name of classes) select.add(new Option(name));
    // Default labels alternate, so a pair of new files starts with both classes.
    select.selectedIndex = previous[index] ?? index % Math.max(1, classes.length);
    row.insertCell().append(select);
  });
}

function addTrainingFiles(files: File[]): void {
  trainingFiles = [...trainingFiles, ...files];
  renderTrainingList();
}

async function train(): Promise<void> {
  const labels = [...element('train-list').querySelectorAll('select')].map(
    (select) => select.selectedIndex,
  );
  const number = (id: string) => Number(element<HTMLInputElement>(id).value);
  const options = {
    images: trainingFiles.map((file, index) => ({ name: file.name, file, label: labels[index]! })),
    classes: classNames(),
    epochs: number('epochs'),
    batchSize: number('batch-size'),
    learningRate: number('learning-rate'),
    fineTune: element<HTMLInputElement>('fine-tune').checked,
    seed: 0,
  };
  chart.clear();
  page.history = [];
  const result = await busy('Training…', () =>
    client.train(options, (progress) => {
      page.history.push(progress);
      chart.add(progress);
      setStatus(`Training: epoch ${progress.epoch}/${progress.epochs}`, 'busy');
    }),
  );
  if (result === undefined) return;
  showModel(result.model);
  element<HTMLButtonElement>('save').disabled = false;
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
onFiles('volume-file', ([file]) => void predict(file!));
onFiles('train-files', addTrainingFiles);
element('classes').addEventListener('change', renderTrainingList);
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
      else await predict(input.files[0]!);
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
