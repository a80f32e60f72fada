// A tiny BIDS dataset for the dataset and loader tests: the Colin27 brain (ch2bet) resampled
// to 8 mm, one image per participant with its intensity scaled, a brain mask per image, and a
// participants.tsv with a class label, a float label and a path column.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readNifti, writeNifti } from '../../src/data/nifti/node.js';
import { formatTsv } from '../../src/data/participants.js';
import { resampleToSpacing } from '../../src/data/transforms/resample.js';
import { loadImageKernels } from '../../src/data/wasm/loader.js';

export const COLIN27 = '/usr/share/mricron/templates/ch2bet.nii.gz';

export interface TinyBids {
  root: string;
  tsv: string;
  /** The rows written, in order. */
  rows: { participant_id: string; session_id: string; diagnosis: string; age: string }[];
  remove(): Promise<void>;
}

const DIAGNOSES = ['CN', 'AD', 'AD', 'CN', 'MCI', 'CN'];

/** Writes `count` participants (at most 6) into a new temporary folder. */
export async function writeTinyBids(count = 4): Promise<TinyBids> {
  const root = await mkdtemp(join(tmpdir(), 'clinicadl-dataset-'));
  const kernels = await loadImageKernels();
  const small = resampleToSpacing(kernels, await readNifti(COLIN27), 8);
  const rows: TinyBids['rows'] = [];
  for (let index = 0; index < count; index++) {
    const participant = `sub-${String(index + 1).padStart(3, '0')}`;
    const session = 'ses-M000';
    const folder = join(root, participant, session, 'anat');
    await mkdir(folder, { recursive: true });
    const scaled = small.withData(small.data.map((value) => value * (1 + 0.25 * index)));
    const mask = small.withData(small.data.map((value) => (value > 40 ? 1 : 0)));
    await writeNifti(join(folder, `${participant}_${session}_T1w.nii.gz`), scaled, {
      compressionLevel: 1,
    });
    await writeNifti(join(folder, `${participant}_${session}_mask.nii.gz`), mask, {
      compressionLevel: 1,
    });
    rows.push({
      participant_id: participant,
      session_id: session,
      diagnosis: DIAGNOSES[index]!,
      age: String(60 + 2.5 * index),
    });
  }
  const tsv = join(root, 'participants.tsv');
  const withPaths = rows.map((row) => ({
    ...row,
    image_path: join(
      row.participant_id,
      row.session_id,
      'anat',
      `${row.participant_id}_${row.session_id}_T1w.nii.gz`,
    ),
  }));
  await writeFile(
    tsv,
    formatTsv(['participant_id', 'session_id', 'diagnosis', 'age', 'image_path'], withPaths),
  );
  return { root, tsv, rows, remove: () => rm(root, { recursive: true, force: true }) };
}
