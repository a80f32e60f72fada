// The data side of the commands. `train` opens the dataset folder, splits its participants into
// train, validation and test sets (stratified by the label) and builds one loader per set.
// `predict` and `interpret` list the images of a dataset folder or of NIfTI files.

import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

import { Dataset } from '../data/dataset.js';
import type { DatasetConfigInput } from '../data/dataset-config.js';
import { DataLoader } from '../data/loader.js';
import { parseTsv, type Row, type Table } from '../data/participants.js';
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
    ...(data.maxBytes !== undefined ? { maxBytes: data.maxBytes } : {}),
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

// ---- Images to predict ----

/** One image given to predict or interpret. */
export interface PredictionImage {
  participant_id: string;
  session_id: string;
  path: string;
  /** Class index or value from the table's label column; undefined without one. */
  label?: number;
}

const NIFTI_SUFFIXES = ['.nii', '.nii.gz', '.hdr', '.hdr.gz', '.img', '.img.gz'];

/** Returns whether `path` has a NIfTI or Analyze file name. */
export function isNiftiName(path: string): boolean {
  const lower = path.toLowerCase();
  return NIFTI_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

/**
 * Lists the images of DATA: one dataset folder (participants.tsv, or `tsv`, and BIDS images),
 * or NIfTI files, each its own participant named after the file with session 'n/a'. Labels are
 * read when the table has the training label column.
 */
export async function listPredictionImages(
  data: readonly string[],
  options: { tsv?: string; label?: string; classes: readonly string[] },
): Promise<PredictionImage[]> {
  if (data.length === 0) throw new UserError('Give a dataset folder or NIfTI files to predict.');
  const first = await stat(data[0]!).catch(() => null);
  if (data.length === 1 && first?.isDirectory()) return datasetImages(data[0]!, options);
  if (options.tsv !== undefined) {
    throw new UserError('--tsv selects rows of a dataset folder; give DATA as one folder.');
  }
  const images: PredictionImage[] = [];
  for (const path of data) {
    const info = await stat(path).catch(() => null);
    if (info === null) throw new UserError(`'${path}' does not exist.`);
    if (info.isDirectory()) {
      throw new UserError(
        `'${path}' is a folder; give either one dataset folder or NIfTI files, not both.`,
      );
    }
    if (!isNiftiName(path)) {
      throw new UserError(
        `'${path}' is not a NIfTI file (.nii, .nii.gz, .hdr or .img) nor a dataset folder.`,
      );
    }
    images.push({ ...fileIds(path), path: resolve(path) });
  }
  rejectSameIds(images);
  return images;
}

/**
 * Returns the ids of an image given as a file: the BIDS entities sub-<label> and ses-<label>
 * when its name starts with them, otherwise the name without extension and session 'n/a'.
 */
export function fileIds(path: string): { participant_id: string; session_id: string } {
  const name = basename(path).replace(/\.(nii|hdr|img)(\.gz)?$/i, '');
  const bids = /^(sub-[A-Za-z0-9]+)(?:_(ses-[A-Za-z0-9]+))?(?:_|$)/.exec(name);
  if (bids === null) return { participant_id: name, session_id: 'n/a' };
  return { participant_id: bids[1]!, session_id: bids[2] ?? 'n/a' };
}

/** Rejects two files with the same ids, whose rows and output files would collide. */
function rejectSameIds(images: readonly PredictionImage[]): void {
  const seen = new Map<string, string>();
  for (const image of images) {
    const key = `${image.participant_id}\t${image.session_id}`;
    const other = seen.get(key);
    if (other !== undefined) {
      throw new UserError(
        `'${other}' and '${image.path}' both get the ids ${image.participant_id} ` +
          `${image.session_id}, so their rows and output files would collide. Rename one of ` +
          'them, or give them in separate runs with different --output folders.',
      );
    }
    seen.set(key, image.path);
  }
}

async function datasetImages(
  folder: string,
  options: { tsv?: string; label?: string; classes: readonly string[] },
): Promise<PredictionImage[]> {
  const root = resolve(folder);
  const tsv = resolve(options.tsv ?? join(root, 'participants.tsv'));
  const text = await readFile(tsv, 'utf8').catch(() => {
    throw new UserError(
      `'${folder}' is not a dataset: ${tsv} cannot be read. Give a folder with ` +
        'participants.tsv and BIDS images (as generate writes), or NIfTI files.',
    );
  });
  const columns = parseTsv(text, tsv).columns;
  const config: DatasetConfigInput = { tsv, image: { layout: 'bids', root } };
  const label = options.label;
  if (label !== undefined && columns.includes(label)) {
    const classes = options.classes.length > 0 ? { classes: [...options.classes] } : {};
    const kind = options.classes.length > 0 ? ('class' as const) : ('float' as const);
    config.labels = { [LABEL_FIELD]: { column: label, kind, ...classes } };
  }
  const dataset = await Dataset.open(config);
  return dataset.records.map((record) => ({
    participant_id: record.participant_id,
    session_id: record.session_id,
    path: record.paths.image!,
    ...(record.labels[LABEL_FIELD] !== undefined ? { label: record.labels[LABEL_FIELD] } : {}),
  }));
}
