// `clinicadl-webgpu predict EXPERIMENT DATA... [--output DIR] [--selection M] [--tsv T]` runs a
// trained experiment on new images: a dataset folder or NIfTI files, preprocessed as in
// training. It writes predictions.tsv, metrics.json when the table has labels, and for
// segmentation and reconstruction one NIfTI output per image on the input image's grid.

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

import type { Command } from 'commander';

import { formatTsv, type Row } from '../data/participants.js';
import { readNifti, writeNifti } from '../data/nifti/node.js';
import { loadImageKernels } from '../data/wasm/loader.js';
import type { ImageKernels } from '../data/wasm/kernels.js';
import type { LoadedExperiment } from '../experiment/load.js';
import { loadExperimentPath } from '../experiment/node.js';
import {
  predictImages,
  requirePreprocessing,
  type SamplePrediction,
} from '../experiment/predict.js';
import { classificationMetrics, regressionMetrics, rocAuc } from '../metrics/index.js';
import type { Gpu } from '../runtime/gpu.js';
import { listPredictionImages, type PredictionImage } from './experiment-data.js';
import { openGpu } from './experiment.js';
import { integerIn, type Writer } from './io.js';
import type { CommandContext } from './main.js';

/** Options shared by predict and interpret. */
export interface ExperimentRunOptions {
  output?: string;
  selection?: string;
  split?: number;
  tsv?: string;
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
}

/** Loads the experiment, lists the images and opens the device; the caller destroys the gpu. */
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
  await mkdir(output, { recursive: true });
  const kernels = await loadImageKernels();
  const gpu = await openGpu();
  return { experiment, images, output, kernels, gpu };
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
  const { experiment, images, output, kernels, gpu } = run;
  try {
    const batchSize = options.batchSize ?? 1;
    out.write(
      `Predicting ${images.length} images with ${experiment.task} model ` +
        `${experiment.weightsPath} of ${experiment.files.name}\n`,
    );
    const network = await experiment.compile(gpu, { batchSize });
    const table: PredictionTable = { rows: [], labels: [], samples: [] };
    // Images are read batchSize at a time, and their samples fill the forward passes.
    for (let first = 0; first < images.length; first += batchSize) {
      const group = images.slice(first, first + batchSize);
      const volumes = await Promise.all(group.map((image) => readNifti(image.path)));
      const predictions = await predictImages(kernels, experiment, network, volumes);
      for (const [index, image] of group.entries()) {
        const prediction = predictions[index]!;
        let written: string | undefined;
        if (prediction.outputVolume !== undefined) {
          written = outputName(image, experiment.task);
          const datatype = experiment.task === 'segmentation' ? 'int16' : 'float32';
          await writeNifti(join(output, written), prediction.outputVolume, { datatype });
        }
        for (const sample of prediction.samples) addRow(table, experiment, image, sample, written);
      }
    }
    const tsvPath = join(output, 'predictions.tsv');
    await writeFile(tsvPath, formatTsv(columnsOf(table.rows), table.rows));
    const metrics = predictionMetrics(experiment, table);
    if (metrics !== undefined) {
      await writeFile(join(output, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    }
    printSummary(out, experiment, table, metrics, tsvPath);
    out.write(`Done in ${((performance.now() - start) / 1000).toFixed(1)} s.\n`);
  } finally {
    gpu.destroy();
  }
}

interface PredictionTable {
  rows: Row[];
  /** The label of each row that has one, with the row's sample. */
  labels: number[];
  samples: SamplePrediction[];
}

function className(experiment: LoadedExperiment, index: number): string {
  return experiment.preprocessing?.classes[index] ?? String(index);
}

function addRow(
  table: PredictionTable,
  experiment: LoadedExperiment,
  image: PredictionImage,
  sample: SamplePrediction,
  written: string | undefined,
): void {
  const row: Row = { participant_id: image.participant_id, session_id: image.session_id };
  if (sample.index !== undefined) row.index = String(sample.index);
  const labelled = image.label !== undefined;
  if (experiment.task === 'classification') {
    if (labelled) row.true_label = className(experiment, image.label!);
    row.predicted_label = className(experiment, sample.predicted!);
    sample.probabilities!.forEach((probability, k) => {
      row[`probability_${className(experiment, k)}`] = String(probability);
    });
  } else if (experiment.task === 'regression') {
    if (labelled) row.true_value = String(image.label);
    row.predicted_value = String(sample.value);
  } else {
    row.output_path = written ?? '';
  }
  table.rows.push(row);
  if (labelled) {
    table.labels.push(image.label!);
    table.samples.push(sample);
  }
}

/** Returns the columns in first-seen order, so every row's fields are kept. */
function columnsOf(rows: readonly Row[]): string[] {
  const columns = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) columns.add(key);
  return [...columns];
}

/** Computes metrics over the labelled rows; undefined without labels or for dense tasks. */
export function predictionMetrics(
  experiment: LoadedExperiment,
  table: Pick<PredictionTable, 'labels' | 'samples'>,
): Record<string, number> | undefined {
  if (table.labels.length === 0) return undefined;
  if (experiment.task === 'regression') {
    const predicted = table.samples.map((sample) => sample.value!);
    return { ...regressionMetrics(table.labels, predicted) };
  }
  if (experiment.task !== 'classification') return undefined;
  const classes = table.samples[0]!.probabilities!.length;
  const predicted = table.samples.map((sample) => sample.predicted!);
  const { confusionMatrix: _matrix, ...metrics } = classificationMetrics(
    table.labels,
    predicted,
    classes,
  );
  const result: Record<string, number> = { ...metrics };
  const both = new Set(table.labels).size === 2;
  if (classes === 2 && both) {
    result.rocAuc = rocAuc(
      table.labels,
      table.samples.map((sample) => sample.probabilities![1]!),
    );
  }
  return result;
}

function printSummary(
  out: Writer,
  experiment: LoadedExperiment,
  table: PredictionTable,
  metrics: Record<string, number> | undefined,
  tsvPath: string,
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
    out.write(`Metrics on ${table.labels.length} labelled samples:\n`);
    for (const [name, value] of Object.entries(metrics)) {
      out.write(`  ${name.padEnd(18)} ${value.toFixed(4)}\n`);
    }
  }
  out.write(`Predictions: ${tsvPath}\n`);
  const outputs = table.rows.filter((row) => row.output_path);
  if (outputs.length > 0) {
    out.write(`  ${outputs.length} ${experiment.task} images beside it, such as `);
    out.write(`${basename(outputs[0]!.output_path!)}\n`);
  }
}
