// The data side of `train`: opens the dataset folder, splits its participants into train,
// validation and test sets (stratified by the label), and builds one loader per set.

import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { Dataset } from '../data/dataset.js';
import type { DatasetConfigInput } from '../data/dataset-config.js';
import { DataLoader } from '../data/loader.js';
import type { Row, Table } from '../data/participants.js';
import { makeSplit } from '../data/splits.js';
import { UserError } from '../errors.js';
import type { DataConfig } from './train-config.js';

/** The batch field the label is stored in. */
export const LABEL_FIELD = 'label';

export interface ExperimentData {
  dataset: Dataset;
  train: DataLoader;
  validation: DataLoader;
  test: DataLoader;
  /** Shape of one image sample without the batch axis, `[C, D, H, W]`. */
  inShape: number[];
  /** Class names in index order; empty for reconstruction. */
  classes: readonly string[];
}

/** Opens the dataset folder, checking first that it is one. */
export async function openDataset(data: DataConfig): Promise<Dataset> {
  const root = resolve(data.dataset);
  const tsv = join(root, 'participants.tsv');
  const info = await stat(tsv).catch(() => null);
  if (info === null || !info.isFile()) {
    throw new UserError(
      `'${data.dataset}' is not a dataset: ${tsv} does not exist. Give a folder with ` +
        "participants.tsv and BIDS images, or write one with 'clinicadl-webgpu generate " +
        `trivial ${data.dataset}'.`,
    );
  }
  const config: DatasetConfigInput = {
    tsv,
    image: { layout: 'bids', root },
    transforms: data.transforms,
  };
  if (data.label !== undefined) {
    const label = { column: data.label, ...(data.classes ? { classes: data.classes } : {}) };
    config.labels = { [LABEL_FIELD]: label };
    config.labelKey = LABEL_FIELD;
  }
  return Dataset.open(config);
}

const keyOf = (row: Row) => ({
  participant_id: row.participant_id!,
  session_id: row.session_id!,
});

/** Splits into train, validation and test participants, stratified by the label column. */
export function splitTable(table: Table, data: DataConfig): Record<string, Row[]> {
  const options = { seed: data.splitSeed, ...(data.label ? { stratify: data.label } : {}) };
  const { rest, heldOut: test } = makeSplit(table, data.test, options);
  const { rest: train, heldOut: validation } = makeSplit(
    { ...table, rows: rest },
    data.validation,
    options,
  );
  return { train, validation, test };
}

/** Opens the dataset, splits it and creates the three loaders. */
export async function prepareData(
  data: DataConfig,
  batchSize: number,
  seed: number,
): Promise<ExperimentData> {
  const dataset = await openDataset(data);
  const sets = splitTable(dataset.table, data);
  const loader = (name: string, training: boolean) =>
    DataLoader.create(dataset.subset(sets[name]!.map(keyOf)), {
      batchSize,
      seed,
      training,
      workers: data.workers,
      memoryImages: 1024,
    });
  const train = await loader('train', true);
  const validation = await loader('validation', false);
  const test = await loader('test', false);
  const first = await train.sample(0);
  return {
    dataset,
    train,
    validation,
    test,
    inShape: first.shapes.image!,
    classes: dataset.classes[LABEL_FIELD] ?? [],
  };
}
