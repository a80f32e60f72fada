// Writing a synthetic dataset in Node, laid out like a raw BIDS dataset:
//
//   <root>/dataset_description.json   BIDS's required description
//   <root>/participants.tsv           participant_id, session_id, diagnosis, age, sex, ...
//   <root>/generation.json            the command, every parameter and the seed
//   <root>/sub-001/ses-M000/anat/sub-001_ses-M000_T1w.nii.gz
//
// Each image is written to a temporary name and renamed (writeNifti does), and the tables come
// last, so a dataset with a participants.tsv is complete.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { UserError } from '../../errors.js';
import { writeNifti } from '../nifti/node.js';
import { formatTsv, type Row } from '../participants.js';
import type { Volume } from '../volume.js';
import { imagePath, type SubjectRecord } from './subjects.js';

/** The file that marks a folder as a generated dataset, which --force may then replace. */
export const GENERATION_FILE = 'generation.json';

const BIDS_VERSION = '1.9.0';

/** Stored voxel type: int16 keeps integer-valued inputs compact, float32 keeps any value. */
export type StoredDatatype = 'int16' | 'float32';

/**
 * Creates `root` or checks that it is empty. A non-empty folder is an error unless `force` is
 * set and the folder contains a generation.json, in which case its contents are deleted. A folder
 * without that file is never deleted, so --force cannot remove unrelated data.
 */
export async function prepareOutputFolder(root: string, force: boolean): Promise<void> {
  const entries = await readdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    if (error.code === 'ENOTDIR') throw new UserError(`Output folder ${root} is a file.`);
    throw new UserError(`Output folder ${root} cannot be read: ${error.message}`);
  });
  if (entries !== null && entries.length > 0) {
    if (!force) {
      throw new UserError(
        `Output folder ${root} is not empty; choose a new folder, or add --force to replace ` +
          'a dataset generated there before.',
      );
    }
    if (!entries.includes(GENERATION_FILE)) {
      throw new UserError(
        `Output folder ${root} is not empty and has no ${GENERATION_FILE}, so it was not made ` +
          'by generate; --force replaces only generated datasets. Choose another folder.',
      );
    }
    await Promise.all(entries.map((entry) => rm(join(root, entry), { recursive: true })));
  }
  await mkdir(root, { recursive: true }).catch((error: Error) => {
    throw new UserError(`Output folder ${root} cannot be created: ${error.message}`);
  });
}

/** Returns int16 when every voxel of the input is an integer that fits, else float32. */
export function storedDatatype(input: Volume): StoredDatatype {
  const data = input.data;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    if (!Number.isInteger(value) || value < -32768 || value > 32767) return 'float32';
  }
  return 'int16';
}

/**
 * Writes one subject's image at its BIDS path. For int16 the values are rounded and clamped to
 * the type's range, as a scanner stores them.
 */
export async function writeSubjectImage(
  root: string,
  subject: SubjectRecord,
  volume: Volume,
  datatype: StoredDatatype,
): Promise<string> {
  const path = join(root, imagePath(subject));
  await mkdir(dirname(path), { recursive: true });
  let stored = volume;
  if (datatype === 'int16') {
    const data = new Float32Array(volume.data.length);
    for (let i = 0; i < data.length; i++) {
      data[i] = Math.min(32767, Math.max(-32768, Math.round(volume.data[i]!)));
    }
    stored = volume.withData(data);
  }
  stored.header.description = `${subject.participantId} ${subject.diagnosis}, synthetic`;
  await writeNifti(path, stored, { datatype });
  return path;
}

/** Returns the participants table, with a subtype column when any subject has a subtype. */
export function participantRows(subjects: readonly SubjectRecord[]): {
  columns: string[];
  rows: Row[];
} {
  const columns = ['participant_id', 'session_id', 'diagnosis', 'age', 'sex'];
  const hasSubtype = subjects.some((subject) => subject.subtype !== undefined);
  if (hasSubtype) columns.push('subtype');
  const rows = subjects.map((subject) => {
    const row: Row = {
      participant_id: subject.participantId,
      session_id: subject.sessionId,
      diagnosis: subject.diagnosis,
      age: subject.age.toFixed(1),
      sex: subject.sex,
    };
    if (hasSubtype) row.subtype = String(subject.subtype ?? '');
    return row;
  });
  return { columns, rows };
}

/** Contents of generation.json. */
export interface GenerationRecord {
  /** 'trivial', 'random' or 'shepplogan'. */
  generator: string;
  version: string;
  seed: number;
  /** Every parameter, including defaults, as the run used them. */
  parameters: Record<string, unknown>;
  /** Values derived from the input, such as the noise std in image units. */
  derived: Record<string, unknown>;
}

/** Writes participants.tsv, dataset_description.json and generation.json (see file header). */
export async function writeDatasetTables(
  root: string,
  subjects: readonly SubjectRecord[],
  record: GenerationRecord,
): Promise<void> {
  const { columns, rows } = participantRows(subjects);
  const description = {
    Name: `Synthetic ${record.generator} dataset`,
    BIDSVersion: BIDS_VERSION,
    DatasetType: 'raw',
    GeneratedBy: [
      {
        Name: 'clinicadl-webgpu',
        Version: record.version,
        Description: `generate ${record.generator}`,
      },
    ],
  };
  const generation = {
    ...record,
    subjects: subjects.map((subject) => ({
      participant_id: subject.participantId,
      diagnosis: subject.diagnosis,
      seed: subject.seed,
      ...(subject.subtype === undefined ? {} : { subtype: subject.subtype }),
      image: imagePath(subject),
    })),
  };
  await writeTextAtomic(join(root, 'dataset_description.json'), json(description));
  await writeTextAtomic(join(root, GENERATION_FILE), json(generation));
  await writeTextAtomic(join(root, 'participants.tsv'), formatTsv(columns, rows));
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Writes text to a temporary name in the same folder, flushes it and renames it to `path`. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new UserError(`Cannot write '${path}': ${(error as Error).message}`);
  }
}

/** Returns the total size in bytes of the files under `root`. */
export async function folderBytes(root: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}
