// `clinicadl-webgpu predict EXPERIMENT DATA... [--output DIR] [--selection M] [--tsv T]` runs a
// trained experiment on new images: a dataset folder or NIfTI files, preprocessed as in
// training. It writes predictions.tsv, metrics.json when the table has labels, and for
// segmentation and reconstruction one NIfTI output per image on the input image's grid.
// For a classifier or regressor of patches or slices, predictions.tsv has one row per image,
// soft-voted from its samples (column vote). The samples' own rows go to
// predictions-patches.tsv or predictions-slices.tsv, and metrics are computed per image.

import { existsSync } from 'node:fs';
import { rmdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

import type { Command } from 'commander';

import { formatTsv, type Row } from '../data/participants.js';
import { readNifti, readNiftiHeader, writeNifti } from '../data/nifti/node.js';
import type { Volume } from '../data/volume.js';
import { loadImageKernels } from '../data/wasm/loader.js';
import type { ImageKernels } from '../data/wasm/kernels.js';
import { UserError } from '../errors.js';
import type { LoadedExperiment } from '../experiment/load.js';
import { loadExperimentPath } from '../experiment/node.js';
import {
  predictImages,
  requirePreprocessing,
  type ImagePrediction,
  type SamplePrediction,
} from '../experiment/predict.js';
import { VOTING_RULE, type ImageVote } from '../experiment/vote.js';
import { classificationMetrics, regressionMetrics, rocAuc } from '../metrics/index.js';
import type { Gpu } from '../runtime/gpu.js';
import { listPredictionImages, type PredictionImage } from './experiment-data.js';
import { openGpu } from './experiment.js';
import { integerIn, type Writer } from './io.js';
import { checkWritable } from './output.js';
import type { CommandContext } from './main.js';

/** Options shared by predict and interpret. */
export interface ExperimentRunOptions {
  output?: string;
  selection?: string;
  split?: number;
  tsv?: string;
  maxBytes?: number;
}

interface PredictOptions extends ExperimentRunOptions {
  batchSize?: number;
}

/** Adds the options shared by predict and interpret to `command`. */
export function addExperimentOptions(command: Command, outputFolder: string): Command {
  return command
    .argument('<experiment>', "experiment folder written by 'train' (or a .zip of it)")
    .argument(
      '<data...>',
      'a dataset folder (participants.tsv and BIDS images, as generate writes) or NIfTI files',
    )
    .option(
      '--output <folder>',
      `folder for the results (default: <experiment>/split-<k>/best-<metric>/${outputFolder}, ` +
        `or <zip name>-${outputFolder} beside a zip)`,
    )
    .option(
      '--selection <metric>',
      "selection metric whose best model is used, such as loss (default: the experiment's " +
        'first selection metric)',
    )
    .option('--split <k>', 'split whose model is used (default: 0)', integerIn(0))
    .option(
      '--tsv <file>',
      'participants TSV choosing the rows of the dataset folder (default: its participants.tsv)',
    )
    .option(
      '--max-bytes <n>',
      'largest image read, in bytes of float32 (4 per voxel) (default: the data.maxBytes ' +
        'recorded at training, else 2147483648)',
      integerIn(1),
    );
}

/** Registers `predict`. */
export function registerPredict(program: Command, context: CommandContext): void {
  const command = program
    .command('predict')
    .description(
      'run a trained experiment on new images: writes predictions.tsv (with metrics when the ' +
        'table has labels) and NIfTI outputs for segmentation and reconstruction',
    );
  addExperimentOptions(command, 'predict')
    .option(
      '--batch-size <n>',
      'samples (whole images, patches or slices) per forward pass (default: 1)',
      integerIn(1),
    )
    .action(async (experiment: string, data: string[], options: PredictOptions) => {
      await runPredict(experiment, data, options, context.io.stdout);
    });
}

/** The experiment, its images and the device, opened for predict or interpret. */
export interface ExperimentRun {
  experiment: LoadedExperiment;
  images: PredictionImage[];
  output: string;
  kernels: ImageKernels;
  gpu: Gpu;
  /** Destroys the device and removes the output folder if this run created it and it is empty. */
  close(): Promise<void>;
  /** Largest image read, with where the limit comes from; undefined for the reader's default. */
  maxBytes?: { bytes: number; source: string };
}

/** Loads the experiment, lists the images and opens the device; the caller calls close(). */
export async function openExperimentRun(
  experimentPath: string,
  data: readonly string[],
  options: ExperimentRunOptions,
  outputFolder: string,
): Promise<ExperimentRun> {
  const experiment = await loadExperimentPath(experimentPath, {
    ...(options.selection !== undefined ? { selection: options.selection } : {}),
    ...(options.split !== undefined ? { split: options.split } : {}),
  });
  const preprocessing = requirePreprocessing(experiment);
  const images = await listPredictionImages(data, {
    ...(options.tsv !== undefined ? { tsv: options.tsv } : {}),
    ...(preprocessing.label !== undefined ? { label: preprocessing.label } : {}),
    classes: preprocessing.classes,
  });
  const output = options.output ?? defaultOutput(experimentPath, experiment, outputFolder);
  const created = !existsSync(output);
  await checkWritable(output, '--output');
  // A run that fails before writing anything leaves no empty folder behind.
  const discardIfEmpty = async () => {
    if (created) await rmdir(output).catch(() => undefined);
  };
  const maxBytes =
    options.maxBytes !== undefined
      ? { bytes: options.maxBytes, source: '--max-bytes' }
      : preprocessing.maxBytes !== undefined
        ? { bytes: preprocessing.maxBytes, source: `data.maxBytes of ${preprocessing.source}` }
        : undefined;
  const kernels = await loadImageKernels();
  const gpu = await openGpu().catch(async (error: unknown) => {
    await discardIfEmpty();
    throw error;
  });
  const close = async () => {
    gpu.destroy();
    await discardIfEmpty();
  };
  return { experiment, images, output, kernels, gpu, close, ...(maxBytes ? { maxBytes } : {}) };
}

/**
 * Reads one image of the run. With a size limit, the header is checked first, so an image
 * larger than the limit is rejected before its voxels are inflated.
 */
export async function readRunImage(
  run: Pick<ExperimentRun, 'maxBytes'>,
  image: PredictionImage,
): Promise<Volume> {
  if (run.maxBytes === undefined) return readNifti(image.path);
  const { bytes, source } = run.maxBytes;
  const { shape } = await readNiftiHeader(image.path);
  const size = 4 * shape.reduce((total, count) => total * count, 1);
  if (size > bytes) {
    throw new UserError(
      `${image.path}: its ${shape.join(' x ')} voxels take ${size} bytes as float32, more ` +
        `than the limit of ${bytes} bytes set by ${source}. Raise the limit with --max-bytes ` +
        'if the image is really this large; otherwise its header is corrupt.',
    );
  }
  return readNifti(image.path, { maxBytes: bytes });
}

function defaultOutput(path: string, experiment: LoadedExperiment, folder: string): string {
  if (/\.zip$/i.test(path)) return `${path.replace(/\.zip$/i, '')}-${folder}`;
  return join(path, `split-${experiment.split}`, `best-${experiment.selection}`, folder);
}

/** Returns the name of a per-image output file. */
export function outputName(image: PredictionImage, kind: string): string {
  const session = image.session_id === 'n/a' ? '' : `_${image.session_id}`;
  return `${image.participant_id}${session}_${kind}.nii.gz`;
}

/** Runs predict and prints its summary. */
export async function runPredict(
  experimentPath: string,
  data: readonly string[],
  options: PredictOptions,
  out: Writer,
): Promise<void> {
  const start = performance.now();
  const run = await openExperimentRun(experimentPath, data, options, 'predict');
  const { experiment, images, gpu } = run;
  try {
    const batchSize = options.batchSize ?? 1;
    out.write(
      `Predicting ${images.length} images with ${experiment.task} model ` +
        `${experiment.weightsPath} of ${experiment.files.name}\n`,
    );
    const network = await experiment.compile(gpu, { batchSize });
    const table: PredictionTable = { rows: [], sampleRows: [], labels: [], outcomes: [] };
    // Images are read batchSize at a time, and their samples fill the forward passes.
    for (let first = 0; first < images.length; first += batchSize) {
      const group = images.slice(first, first + batchSize);
      const volumes = await Promise.all(group.map((image) => readRunImage(run, image)));
      const predictions = await predictImages(run.kernels, experiment, network, volumes);
      for (const [index, image] of group.entries()) {
        await addPrediction(table, run, image, predictions[index]!);
      }
    }
    const files = await writeTables(run, table);
    const metrics = predictionMetrics(experiment, table);
    if (metrics !== undefined) {
      await writeFile(join(run.output, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    }
    printSummary(out, experiment, table, metrics, files);
    out.write(`Done in ${((performance.now() - start) / 1000).toFixed(1)} s.\n`);
  } finally {
    await run.close();
  }
}

/** A class with its probabilities, or a value: one sample's prediction or an image's vote. */
type Outcome = Pick<SamplePrediction, 'predicted' | 'probabilities' | 'value'>;

interface PredictionTable {
  /** One row per image, or per sample for dense outputs cut in patches or slices. */
  rows: Row[];
  /** One row per patch or slice of the voted images. */
  sampleRows: Row[];
  /** The label of each labelled image, with the image's prediction. */
  labels: number[];
  outcomes: Outcome[];
}

async function addPrediction(
  table: PredictionTable,
  run: ExperimentRun,
  image: PredictionImage,
  prediction: ImagePrediction,
): Promise<void> {
  const { experiment } = run;
  let written: string | undefined;
  if (prediction.outputVolume !== undefined) {
    written = outputName(image, experiment.task);
    const datatype = experiment.task === 'segmentation' ? 'int16' : 'float32';
    await writeNifti(join(run.output, written), prediction.outputVolume, { datatype });
  }
  const { vote, samples } = prediction;
  if (vote !== undefined && samples.length > 1) {
    for (const sample of samples) table.sampleRows.push(predictionRow(run, image, sample));
    table.rows.push(voteRow(run, image, vote));
    addLabel(table, image, vote);
    return;
  }
  for (const sample of samples) {
    table.rows.push(predictionRow(run, image, sample, written));
    addLabel(table, image, sample);
  }
}

function addLabel(table: PredictionTable, image: PredictionImage, outcome: Outcome): void {
  if (image.label === undefined) return;
  table.labels.push(image.label);
  table.outcomes.push(outcome);
}

function className(experiment: LoadedExperiment, index: number): string {
  return experiment.preprocessing?.classes[index] ?? String(index);
}

function predictionRow(
  run: ExperimentRun,
  image: PredictionImage,
  outcome: Outcome & { index?: number },
  written?: string,
): Row {
  const { experiment } = run;
  const row: Row = { participant_id: image.participant_id, session_id: image.session_id };
  if (outcome.index !== undefined) row.index = String(outcome.index);
  const labelled = image.label !== undefined;
  if (experiment.task === 'classification') {
    if (labelled) row.true_label = className(experiment, image.label!);
    row.predicted_label = className(experiment, outcome.predicted!);
    outcome.probabilities!.forEach((probability, k) => {
      row[`probability_${className(experiment, k)}`] = String(probability);
    });
  } else if (experiment.task === 'regression') {
    if (labelled) row.true_value = String(image.label);
    row.predicted_value = String(outcome.value);
  } else {
    row.output_path = written ?? '';
  }
  return row;
}

/** Builds the image's row: its vote, the rule (column vote) and how many samples voted. */
function voteRow(run: ExperimentRun, image: PredictionImage, vote: ImageVote): Row {
  const row = predictionRow(run, image, vote);
  row.vote = VOTING_RULE;
  row.samples = String(vote.samples);
  return row;
}

/** Writes predictions.tsv, and the per-sample table when images were voted; returns both paths. */
async function writeTables(run: ExperimentRun, table: PredictionTable): Promise<string[]> {
  const paths = [join(run.output, 'predictions.tsv')];
  await writeFile(paths[0]!, formatTsv(columnsOf(table.rows), table.rows));
  if (table.sampleRows.length > 0) {
    const mode = requirePreprocessing(run.experiment).transforms.extraction.mode;
    const name = mode === 'slice' ? 'predictions-slices.tsv' : 'predictions-patches.tsv';
    paths.push(join(run.output, name));
    await writeFile(paths[1]!, formatTsv(columnsOf(table.sampleRows), table.sampleRows));
  }
  return paths;
}

/** Returns the columns in first-seen order, so every row's fields are kept. */
function columnsOf(rows: readonly Row[]): string[] {
  const columns = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) columns.add(key);
  return [...columns];
}

/** Computes metrics over the labelled images; undefined without labels or for dense tasks. */
export function predictionMetrics(
  experiment: LoadedExperiment,
  table: { labels: readonly number[]; outcomes: readonly Outcome[] },
): Record<string, number> | undefined {
  if (table.labels.length === 0) return undefined;
  const labels = [...table.labels];
  if (experiment.task === 'regression') {
    const predicted = table.outcomes.map((outcome) => outcome.value!);
    return { ...regressionMetrics(labels, predicted) };
  }
  if (experiment.task !== 'classification') return undefined;
  const classes = table.outcomes[0]!.probabilities!.length;
  const predicted = table.outcomes.map((outcome) => outcome.predicted!);
  const { confusionMatrix: _matrix, ...metrics } = classificationMetrics(
    labels,
    predicted,
    classes,
  );
  const result: Record<string, number> = { ...metrics };
  if (classes === 2 && new Set(labels).size === 2) {
    const scores = table.outcomes.map((outcome) => outcome.probabilities![1]!);
    result.rocAuc = rocAuc(labels, scores);
  }
  return result;
}

function printSummary(
  out: Writer,
  experiment: LoadedExperiment,
  table: PredictionTable,
  metrics: Record<string, number> | undefined,
  files: readonly string[],
): void {
  if (experiment.task === 'classification') {
    const counts = new Map<string, number>();
    for (const row of table.rows) {
      counts.set(row.predicted_label!, (counts.get(row.predicted_label!) ?? 0) + 1);
    }
    const list = [...counts].map(([name, count]) => `${name} ${count}`).join(', ');
    out.write(`  predicted classes: ${list}\n`);
  }
  if (metrics !== undefined) {
    out.write(`Metrics on ${table.labels.length} labelled images:\n`);
    for (const [name, value] of Object.entries(metrics)) {
      out.write(`  ${name.padEnd(18)} ${value.toFixed(4)}\n`);
    }
  }
  out.write(`Predictions: ${files[0]}\n`);
  if (files.length > 1) {
    out.write(`  one row per image, ${VOTING_RULE}-voted from ${basename(files[1]!)}\n`);
  }
  const outputs = table.rows.filter((row) => row.output_path);
  if (outputs.length > 0) {
    out.write(`  ${outputs.length} ${experiment.task} images beside it, such as `);
    out.write(`${basename(outputs[0]!.output_path!)}\n`);
  }
}
