// One experiment of `train` and `demo`. The Trainer fits the model on the train split and
// validates it on the validation split. The selected model is then evaluated on the held-out
// test split, and the configuration and report.html are written to the experiment folder.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { parseTsv } from '../data/participants.js';
import { catalogueFolder, catalogueNetworks } from '../dsl/catalogue.js';
import { GpuError, GpuLimitError, UserError } from '../errors.js';
import { readNiftiHeader } from '../data/nifti/node.js';
import { axisCodes } from '../data/volume.js';
import { loadExperimentPath } from '../experiment/node.js';
import { compileExperimentSaliency } from '../experiment/saliency.js';
import { closestName } from '../graph/suggest.js';
import { createLogger } from '../log.js';
import type { Model } from '../models/model.js';
import { ReconstructionModel, SupervisedModel, type NetNetwork } from '../models/index.js';
import { writeReport, type ReportInput } from '../report/report.js';
import { acquireGpu, type Gpu } from '../runtime/index.js';
import { ProgressCallback, type EpochRecord } from '../training/callbacks.js';
import { Trainer, TrainingInterrupted } from '../training/trainer.js';
import { LABEL_FIELD, prepareData, type ExperimentData } from './experiment-data.js';
import type { Writer } from './io.js';
import type { ExperimentConfig, NetworkSection } from './train-config.js';

const log = createLogger('train');

export interface ExperimentResult {
  output: string;
  history: EpochRecord[];
  /** Metrics of the selected model on the test set. */
  test: Record<string, number>;
  reportPath: string;
  seconds: number;
}

/** Writes a JSON value as an expression of the .net language (lists, records, none). */
export function netExpression(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(netExpression).join(', ')}]`;
  const fields = Object.entries(value as Record<string, unknown>);
  return `{${fields.map(([key, item]) => `${key}: ${netExpression(item)}`).join(', ')}}`;
}

/** Returns the model's network: the .net file, the network in it and its settings as `--set`. */
export function networkSpec(section: NetworkSection, inShape: readonly number[]): NetNetwork {
  const settings = { inShape: [...inShape], ...section.settings };
  const set = Object.entries(settings).map(([key, value]) => `${key}=${netExpression(value)}`);
  const netFile = section.netFile ?? catalogueFile(section.name!);
  const network = section.name ? { network: section.name } : {};
  return { netFile, ...network, set, setLabel: 'network.settings.' };
}

function catalogueFile(name: string): string {
  const networks = catalogueNetworks();
  const file = networks.get(name);
  if (file !== undefined) return file;
  if (networks.size === 0) {
    throw new Error(`no network could be read from the catalogue folder ${catalogueFolder()}`);
  }
  const suggestion = closestName(name, networks.keys());
  throw new UserError(
    `TrainConfig.network.name: '${name}' is not in the catalogue` +
      (suggestion ? ` (did you mean '${suggestion}'?)` : '') +
      `; known networks: ${[...networks.keys()].join(', ')}. Or give netFile.`,
  );
}

function createModel(config: ExperimentConfig, inShape: readonly number[]): Model {
  const options = {
    network: networkSpec(config.network, inShape),
    loss: config.loss,
    optimizer: config.optimizer,
  };
  if (config.model === 'ReconstructionModel') return new ReconstructionModel(options);
  return new SupervisedModel({ ...options, labelKey: LABEL_FIELD });
}

/** Acquires the GPU, reporting a missing adapter as the user's environment problem. */
export async function openGpu(): Promise<Gpu> {
  try {
    return await acquireGpu();
  } catch (error) {
    if (error instanceof GpuError) throw new UserError(error.message);
    throw error;
  }
}

/** Adds what to do to the adapter's limit errors. */
function explainLimits<T>(work: Promise<T>, batchSize: number): Promise<T> {
  return work.catch((error: unknown) => {
    if (!(error instanceof GpuLimitError)) throw error;
    throw new GpuLimitError(
      `${error.message} The network's tensors at batch size ${batchSize} exceed this ` +
        'adapter; use a smaller trainer.batchSize, or patches (data.transforms.extraction).',
    );
  });
}

export interface RunOptions {
  /** Continue the unfinished experiment in `output` from its last checkpoint. */
  resume?: boolean;
  /** Stops training between two steps, with a TrainingInterrupted (see Trainer.train). */
  signal?: AbortSignal;
}

/**
 * Runs the experiment described by `config` and writes it to `output`. The caller checks the
 * folder first (prepareOutputFolder). train-config.json is written before training and
 * report.html last, so a folder with experiment.json and no report.html is unfinished.
 */
export async function runExperiment(
  config: ExperimentConfig,
  output: string,
  out: Writer,
  options: RunOptions = {},
): Promise<ExperimentResult> {
  const start = performance.now();
  const { trainer: settings } = config;
  const data = await prepareData(config.data, settings.batchSize, settings.seed);
  const gpu = await openGpu().catch(async (error: unknown) => {
    await closeLoaders(data);
    throw error;
  });
  try {
    out.write(
      `Training ${config.network.name ?? config.network.netFile} on ${data.train.length} ` +
        `images (validation ${data.validation.length}, test ${data.test.length}), input ` +
        `[${data.inShape.join(', ')}]\n`,
    );
    const model = createModel(config, data.inShape);
    const trainer = new Trainer({
      maps: output,
      model,
      gpu,
      config: settings,
      callbacks: [new ProgressCallback((line) => out.write(`  ${line}\n`))],
      data: { ...dataSection(config, data), grid: await imageGrid(data) },
    });
    if (!options.resume) await writeTrainConfig(output, config);
    const { train, validation } = data;
    const { resume, signal } = options;
    const history = await explainLimits(
      trainer.train({
        train,
        validation,
        ...(resume ? { resume } : {}),
        ...(signal ? { signal } : {}),
      }),
      settings.batchSize,
    );
    // After training, an interrupt stops before each of the long steps left.
    if (signal?.aborted) throw new TrainingInterrupted(null);
    out.write(`Evaluating the selected model on the ${data.test.length} test images\n`);
    const test = await trainer.evaluate('test', data.test);
    if (signal?.aborted) throw new TrainingInterrupted(null);
    const reportPath = join(output, 'report.html');
    out.write(`Writing ${reportPath} (saliency maps of the report's samples)\n`);
    const report = await reportInput(config, data, output, history, test, model);
    Object.assign(report, await reportSaliency(gpu, output, report.samples));
    await writeReport(reportPath, report);
    return { output, history, test, reportPath, seconds: (performance.now() - start) / 1000 };
  } finally {
    gpu.destroy();
    await closeLoaders(data);
  }
}

/** Writes the configuration the experiment was started with, for --resume to compare. */
async function writeTrainConfig(output: string, config: ExperimentConfig): Promise<void> {
  await writeFile(join(output, 'train-config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * The voxel grid of the training images as stored on disk, before any transform. `axisCodes`
 * are the codes nibabel's aff2axcodes returns (such as 'RAS'), and `voxelSizeMm` are the
 * affine's column norms. `shape` is in the file's voxel order (nibabel's img.shape), and
 * `affine` is the 4x4 voxel-to-world matrix by rows.
 */
export interface ImageGrid {
  axisCodes: string;
  voxelSizeMm: number[];
  shape: number[];
  affine: number[][];
}

/** Returns the grid of the first training image; a warning is logged when another differs. */
export async function imageGrid(data: ExperimentData): Promise<ImageGrid | null> {
  const paths = data.train.dataset.records.map((record) => record.paths.image!);
  if (paths.length === 0) return null;
  const grids = await Promise.all(paths.map(async (path) => gridOf(await readNiftiHeader(path))));
  const first = grids[0]!;
  const other = grids.findIndex(
    (grid) => grid.axisCodes !== first.axisCodes || grid.shape.join() !== first.shape.join(),
  );
  if (other >= 0) {
    log.warn(
      `The training images do not share one grid: ${paths[0]} is ${first.axisCodes} ` +
        `[${first.shape.join(', ')}] but ${paths[other]} is ${grids[other]!.axisCodes} ` +
        `[${grids[other]!.shape.join(', ')}]; experiment.json records the first.`,
    );
  }
  return first;
}

function gridOf(info: { shape: number[]; affine: Float64Array }): ImageGrid {
  const { affine } = info;
  const rows = [0, 1, 2, 3].map((r) => [...affine.subarray(4 * r, 4 * r + 4)]);
  const voxelSizeMm = [0, 1, 2].map((c) => Math.hypot(affine[c]!, affine[4 + c]!, affine[8 + c]!));
  return { axisCodes: axisCodes(affine), voxelSizeMm, shape: info.shape.slice(0, 3), affine: rows };
}

/**
 * Returns the data section recorded in experiment.json: the data configuration with the class
 * names in index order (sorted label values when the configuration gives none), so inference
 * can preprocess new images and name the classes without the training dataset.
 */
export function dataSection(
  config: ExperimentConfig,
  data: ExperimentData,
): Record<string, unknown> {
  return { ...config.data, classes: [...data.classes], inShape: [...data.inShape] };
}

/**
 * Computes the saliency of the report's samples with the model the test metrics come from
 * (the best model of the first selection metric), read back from the experiment folder.
 */
async function reportSaliency(
  gpu: Gpu,
  output: string,
  samples: ReportInput['samples'],
): Promise<Pick<ReportInput, 'samples' | 'saliencyNote'>> {
  const experiment = await loadExperimentPath(output);
  if (experiment.task === 'reconstruction') {
    const saliencyNote = 'A reconstruction model has no class score to explain.';
    return { samples, saliencyNote };
  }
  const extraction = experiment.preprocessing?.transforms.extraction.mode ?? 'image';
  if (extraction !== 'image' || experiment.inferer !== null) {
    const saliencyNote = 'Saliency maps are drawn only for models that take whole images.';
    return { samples, saliencyNote };
  }
  const program = await compileExperimentSaliency(gpu, experiment);
  const withMaps = [];
  for (const sample of samples) {
    const result = await program.run(sample.image);
    const target = result.targets[0]!;
    const saliencyTarget = experiment.preprocessing?.classes[target] ?? `output ${target}`;
    withMaps.push({ ...sample, saliency: result.saliency, saliencyTarget });
  }
  return { samples: withMaps };
}

async function closeLoaders(data: ExperimentData): Promise<void> {
  await Promise.all([data.train.close(), data.validation.close(), data.test.close()]);
}

/** Returns the indices of up to 4 test samples for the report, 2 per class when there are labels. */
export function reportSamples(data: Pick<ExperimentData, 'test' | 'classes'>): number[] {
  const { records } = data.test.dataset;
  const perImage = data.test.samplesPerImage;
  const chosen: number[] = [];
  const counts = new Map<number, number>();
  for (let image = 0; image < records.length && chosen.length < 4; image++) {
    const label = records[image]!.labels[LABEL_FIELD] ?? 0;
    if (data.classes.length > 0 && (counts.get(label) ?? 0) >= 4 / data.classes.length) continue;
    counts.set(label, (counts.get(label) ?? 0) + 1);
    chosen.push(image * perImage);
  }
  return chosen;
}

async function reportInput(
  config: ExperimentConfig,
  data: ExperimentData,
  output: string,
  history: EpochRecord[],
  test: Record<string, number>,
  model: Model,
): Promise<ReportInput> {
  const text = await readFile(join(output, 'split-0', 'test', 'predictions.tsv'), 'utf8');
  const predictions = parseTsv(text, 'predictions.tsv').rows;
  const labels = new Map(
    data.test.dataset.records.map((record) => [
      `${record.participant_id}\t${record.session_id}`,
      record.labels[LABEL_FIELD],
    ]),
  );
  const samples = [];
  for (const index of reportSamples(data)) samples.push(await data.test.sample(index));
  return {
    title: `${config.network.name ?? config.network.netFile} on ${config.data.dataset}`,
    model: model.name,
    history,
    metrics: test,
    classes: data.classes,
    predictions: predictions.map((row) => ({
      id: `${row.participant_id} ${row.session_id}`,
      label: labels.get(`${row.participant_id}\t${row.session_id}`),
      outputs: Object.keys(row)
        .filter((key) => key.startsWith('output_'))
        .map((key) => Number(row[key])),
    })),
    samples: samples.map((sample) => ({
      id: `${sample.participant_id} ${sample.session_id}`,
      image: sample.fields.image as Float32Array,
      shape: sample.shapes.image!,
      label: data.classes[(sample.fields[LABEL_FIELD] as Int32Array | undefined)?.[0] ?? -1],
    })),
  };
}
