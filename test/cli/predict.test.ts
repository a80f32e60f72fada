import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

import { zipSync } from 'fflate';

import { readNifti, writeNifti } from '../../src/data/nifti/node.js';
import { reorient } from '../../src/data/transforms/reorient.js';
import { Volume } from '../../src/data/volume.js';
import { loadImageKernels } from '../../src/data/wasm/loader.js';
import { parseTsv, type Row } from '../../src/data/participants.js';
import {
  insideCrop,
  writeDenseExperiment,
  writePatchClassifier,
  writeSliceClassifier,
  zScored,
} from '../experiment/dense-fixture.js';
import { fileIds } from '../../src/cli/experiment-data.js';
import { runCli } from './helpers.js';

function readRows(path: string): { columns: string[]; rows: Row[] } {
  return parseTsv(readFileSync(path, 'utf8'), path);
}

function imagePath(dataset: string, participant: string): string {
  return join(dataset, participant, 'ses-M000', 'anat', `${participant}_ses-M000_T1w.nii.gz`);
}

/** Zips every file under `folder` into one archive whose entries sit under `top/`. */
function zipFolder(folder: string, top: string): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  const visit = (path: string) => {
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      if (statSync(child).isDirectory()) visit(child);
      else entries[`${top}/${relative(folder, child)}`] = readFileSync(child);
    }
  };
  visit(folder);
  return zipSync(entries);
}

describe('predict command', () => {
  let folder: string;
  let maps: string;
  let dataset: string;
  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'predict-'));
    const demo = await runCli('demo', '--quick', '--output', folder);
    assert.equal(demo.status, 0, demo.stderr);
    maps = join(folder, 'maps');
    dataset = join(folder, 'dataset');
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('predicts a dataset folder', async () => {
    const output = join(folder, 'out-dataset');
    const run = await runCli('predict', maps, dataset, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Predicting 8 images with classification model/);
    assert.match(run.stdout, /Metrics on 8 labelled images/);
    const { columns, rows } = readRows(join(output, 'predictions.tsv'));
    assert.deepEqual(columns, [
      'participant_id',
      'session_id',
      'true_label',
      'predicted_label',
      'probability_CN',
      'probability_AD',
    ]);
    assert.equal(rows.length, 8);
    for (const row of rows) {
      const cn = Number(row.probability_CN);
      const ad = Number(row.probability_AD);
      assert.ok(Math.abs(cn + ad - 1) < 1e-9, `${row.participant_id} probabilities sum`);
      assert.equal(row.predicted_label, ad > cn ? 'AD' : 'CN');
    }
    const metrics = JSON.parse(readFileSync(join(output, 'metrics.json'), 'utf8'));
    const correct = rows.filter((row) => row.true_label === row.predicted_label).length;
    assert.equal(metrics.accuracy, correct / rows.length);
    assert.ok(metrics.rocAuc >= 0);
    assert.ok(metrics.rocAuc <= 1);
  });

  it("matches the trainer's test predictions", async () => {
    const output = join(folder, 'out-trainer');
    const run = await runCli('predict', maps, dataset, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    const ours = new Map(
      readRows(join(output, 'predictions.tsv')).rows.map((row) => [row.participant_id, row]),
    );
    const trainer = readRows(join(maps, 'split-0', 'test', 'predictions.tsv')).rows;
    assert.ok(trainer.length > 0);
    for (const row of trainer) {
      const [a, b] = [Number(row.output_0), Number(row.output_1)];
      const expected = Math.exp(b) / (Math.exp(a) + Math.exp(b));
      const actual = Number(ours.get(row.participant_id!)!.probability_AD);
      assert.ok(
        Math.abs(actual - expected) < 1e-5,
        `${row.participant_id}: ${actual} vs ${expected}`,
      );
    }
  });

  it('batches images with --batch-size', async () => {
    const single = join(folder, 'out-batch-1');
    const batched = join(folder, 'out-batch-3');
    const one = await runCli('predict', maps, dataset, '--output', single);
    assert.equal(one.status, 0, one.stderr);
    const three = await runCli('predict', maps, dataset, '--output', batched, '--batch-size', '3');
    assert.equal(three.status, 0, three.stderr);
    const expected = readRows(join(single, 'predictions.tsv')).rows;
    const actual = readRows(join(batched, 'predictions.tsv')).rows;
    assert.equal(actual.length, expected.length);
    actual.forEach((row, index) => {
      assert.equal(row.participant_id, expected[index]!.participant_id);
      assert.equal(row.predicted_label, expected[index]!.predicted_label);
      const difference = Number(row.probability_AD) - Number(expected[index]!.probability_AD);
      assert.ok(Math.abs(difference) < 1e-6, `${row.participant_id}: ${difference}`);
    });
  });

  it('predicts NIfTI files', async () => {
    const output = join(folder, 'out-files');
    const files = ['sub-001', 'sub-002'].map((id) => imagePath(dataset, id));
    const run = await runCli('predict', maps, ...files, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /Metrics/);
    const { columns, rows } = readRows(join(output, 'predictions.tsv'));
    assert.ok(!columns.includes('true_label'));
    assert.deepEqual(
      rows.map((row) => [row.participant_id, row.session_id]),
      [
        ['sub-001', 'ses-M000'],
        ['sub-002', 'ses-M000'],
      ],
    );
    assert.ok(!existsSync(join(output, 'metrics.json')));
  });

  it('selects rows with --tsv', async () => {
    const output = join(folder, 'out-tsv');
    const tsv = join(folder, 'two.tsv');
    const table = readFileSync(join(dataset, 'participants.tsv'), 'utf8').split('\n');
    writeFileSync(tsv, `${table.slice(0, 3).join('\n')}\n`);
    const run = await runCli('predict', maps, dataset, '--tsv', tsv, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readRows(join(output, 'predictions.tsv')).rows.length, 2);
  });

  it('reads a zipped experiment', async () => {
    const zip = join(folder, 'maps.zip');
    writeFileSync(zip, zipFolder(maps, 'maps'));
    const run = await runCli('predict', zip, imagePath(dataset, 'sub-003'));
    assert.equal(run.status, 0, run.stderr);
    const fromZip = readRows(join(folder, 'maps-predict', 'predictions.tsv')).rows[0]!;
    const direct = await runCli('predict', maps, imagePath(dataset, 'sub-003'));
    assert.equal(direct.status, 0, direct.stderr);
    const defaultOutput = join(maps, 'split-0', 'best-loss', 'predict', 'predictions.tsv');
    assert.deepEqual(readRows(defaultOutput).rows[0], fromZip);
  });

  it('writes a reconstruction on the input grid', async () => {
    const experiment = join(folder, 'reconstruction');
    writeDenseExperiment(experiment, 'reconstruction');
    const output = join(folder, 'out-reconstruction');
    const input = imagePath(dataset, 'sub-004');
    const run = await runCli('predict', experiment, input, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    const { rows } = readRows(join(output, 'predictions.tsv'));
    assert.equal(rows[0]!.output_path, 'sub-004_ses-M000_reconstruction.nii.gz');
    const image = await readNifti(input);
    const result = await readNifti(join(output, rows[0]!.output_path!));
    assert.deepEqual(result.shape, image.shape);
    assert.deepEqual([...result.affine], [...image.affine]);
    const expected = zScored(image.data);
    const [nx, ny, nz] = image.spatialShape;
    let inside = 0;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const index = image.index(i, j, k);
          const value = insideCrop(image.spatialShape, i, j, k) ? expected[index]! : 0;
          if (insideCrop(image.spatialShape, i, j, k)) inside++;
          assert.ok(Math.abs(result.data[index]! - value) < 1e-4, `voxel ${i}, ${j}, ${k}`);
        }
      }
    }
    assert.equal(inside, 16 * 14 * 12);
  });

  it('assembles overlapping patch outputs', async () => {
    // Patches of 8 x 7 x 6 voxels every 4 x 7 x 6 voxels cover the crop, x twice in places.
    const experiment = join(folder, 'reconstruction-patches');
    const extraction = { mode: 'patch' as const, patchSize: [8, 7, 6], stride: [4, 7, 6] };
    writeDenseExperiment(experiment, 'reconstruction', extraction);
    const output = join(folder, 'out-reconstruction-patches');
    const input = imagePath(dataset, 'sub-007');
    const run = await runCli('predict', experiment, input, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    const rows = readRows(join(output, 'predictions.tsv')).rows;
    assert.equal(rows.length, 12);
    assert.ok(rows.every((row) => row.output_path === rows[0]!.output_path));
    const image = await readNifti(input);
    const result = await readNifti(join(output, rows[0]!.output_path!));
    const expected = zScored(image.data);
    const [nx, ny, nz] = image.spatialShape;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const index = image.index(i, j, k);
          const value = insideCrop(image.spatialShape, i, j, k) ? expected[index]! : 0;
          assert.ok(Math.abs(result.data[index]! - value) < 1e-4, `voxel ${i}, ${j}, ${k}`);
        }
      }
    }
  });

  it('writes segmentation labels on the input grid', async () => {
    const experiment = join(folder, 'segmentation');
    writeDenseExperiment(experiment, 'segmentation');
    const output = join(folder, 'out-segmentation');
    const input = imagePath(dataset, 'sub-005');
    const run = await runCli('predict', experiment, input, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    const image = await readNifti(input);
    const labels = await readNifti(join(output, 'sub-005_ses-M000_segmentation.nii.gz'));
    assert.equal(labels.header.datatype, 4);
    assert.deepEqual([...labels.affine], [...image.affine]);
    const scored = zScored(image.data);
    let foreground = 0;
    const [nx, ny, nz] = image.spatialShape;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const index = image.index(i, j, k);
          const above = insideCrop(image.spatialShape, i, j, k) && scored[index]! > 0;
          assert.equal(labels.data[index], above ? 1 : 0, `voxel ${i}, ${j}, ${k}`);
          if (above) foreground++;
        }
      }
    }
    assert.ok(foreground > 0);
  });

  it('writes one row per patch', async () => {
    const experiment = join(folder, 'patches');
    writePatchClassifier(experiment);
    const output = join(folder, 'out-patches');
    const input = imagePath(dataset, 'sub-006');
    const run = await runCli('predict', experiment, input, '--output', output, '--batch-size', '5');
    assert.equal(run.status, 0, run.stderr);
    const { columns, rows } = readRows(join(output, 'predictions-patches.tsv'));
    assert.deepEqual(columns.slice(0, 4), [
      'participant_id',
      'session_id',
      'index',
      'predicted_label',
    ]);
    // 22 x 26 x 23 voxels hold 2 x 3 x 2 whole patches of 8 voxels.
    assert.deepEqual(
      rows.map((row) => Number(row.index)),
      Array.from({ length: 12 }, (_, i) => i),
    );
    const image = await readNifti(input);
    const [nx, ny] = image.spatialShape;
    rows.forEach((row, patch) => {
      // Patches run x fastest, then y, then z; the AD score is the sum of the patch.
      const [px, py, pz] = [patch % 2, Math.floor(patch / 2) % 3, Math.floor(patch / 6)];
      let sum = 0;
      for (let k = 0; k < 8; k++) {
        for (let j = 0; j < 8; j++) {
          for (let i = 0; i < 8; i++) {
            sum += image.data[8 * px + i + nx * (8 * py + j + ny * (8 * pz + k))]!;
          }
        }
      }
      const expected = 1 / (1 + Math.exp(-sum));
      const actual = Number(row.probability_AD);
      assert.ok(Math.abs(actual - expected) < 1e-5, `patch ${patch}: ${actual} vs ${expected}`);
    });
  });

  it('votes one row per image from its patches', async () => {
    const experiment = join(folder, 'patches-vote');
    writePatchClassifier(experiment);
    const output = join(folder, 'out-patches-vote');
    const run = await runCli('predict', experiment, dataset, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Metrics on 8 labelled images/);
    assert.match(run.stdout, /one row per image, soft-voted from predictions-patches\.tsv/);
    const images = readRows(join(output, 'predictions.tsv'));
    assert.deepEqual(images.columns, [
      'participant_id',
      'session_id',
      'true_label',
      'predicted_label',
      'probability_CN',
      'probability_AD',
      'vote',
      'samples',
    ]);
    const patches = readRows(join(output, 'predictions-patches.tsv')).rows;
    assert.equal(images.rows.length, 8);
    assert.equal(patches.length, 8 * 12);
    for (const row of images.rows) {
      const own = patches.filter((patch) => patch.participant_id === row.participant_id);
      assert.equal(own.length, 12);
      assert.equal(row.vote, 'soft');
      assert.equal(row.samples, '12');
      for (const name of ['CN', 'AD']) {
        const mean = own.reduce((sum, patch) => sum + Number(patch[`probability_${name}`]), 0);
        const actual = Number(row[`probability_${name}`]);
        assert.ok(Math.abs(actual - mean / 12) < 1e-9, `${row.participant_id} ${name}`);
      }
      const ad = Number(row.probability_AD);
      assert.equal(row.predicted_label, ad > 0.5 ? 'AD' : 'CN');
    }
    // Metrics count images, not patches.
    const metrics = JSON.parse(readFileSync(join(output, 'metrics.json'), 'utf8'));
    const correct = images.rows.filter((row) => row.true_label === row.predicted_label).length;
    assert.equal(metrics.accuracy, correct / 8);
  });

  it('votes one row per image from its slices', async () => {
    const experiment = join(folder, 'slices');
    writeSliceClassifier(experiment);
    const output = join(folder, 'out-slices');
    const input = imagePath(dataset, 'sub-003');
    const run = await runCli('predict', experiment, input, '--output', output, '--batch-size', '7');
    assert.equal(run.status, 0, run.stderr);
    const slices = readRows(join(output, 'predictions-slices.tsv')).rows;
    assert.deepEqual(
      slices.map((row) => Number(row.index)),
      Array.from({ length: 20 }, (_, i) => i),
    );
    const image = await readNifti(input);
    const [nx, ny, nz] = image.spatialShape;
    let mean = 0;
    slices.forEach((row, slice) => {
      // Slice s is y = 3 + s; its AD score is the sum of its voxels.
      let sum = 0;
      for (let k = 0; k < nz; k++) {
        for (let i = 0; i < nx; i++) sum += image.data[i + nx * (3 + slice + ny * k)]!;
      }
      const expected = 1 / (1 + Math.exp(-sum));
      assert.ok(Math.abs(Number(row.probability_AD) - expected) < 1e-5, `slice ${slice}`);
      mean += Number(row.probability_AD) / 20;
    });
    const [vote] = readRows(join(output, 'predictions.tsv')).rows;
    assert.equal(vote!.samples, '20');
    assert.ok(Math.abs(Number(vote!.probability_AD) - mean) < 1e-9);
  });

  it('reads images below --max-bytes', async () => {
    // 22 x 26 x 23 voxels take 52624 bytes as float32.
    const output = join(folder, 'out-max-bytes');
    const input = imagePath(dataset, 'sub-001');
    const run = await runCli('predict', maps, input, '--output', output, '--max-bytes', '52624');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readRows(join(output, 'predictions.tsv')).rows.length, 1);
  });

  const sizeLimits: [string, unknown, string[], RegExp][] = [
    [
      'an image above --max-bytes',
      undefined,
      ['--max-bytes', '52623'],
      /22 x 26 x 23 voxels take 52624 bytes as float32, more than the limit of 52623 bytes set by --max-bytes\. Raise/,
    ],
    [
      'an image above the recorded data.maxBytes',
      1000,
      [],
      /more than the limit of 1000 bytes set by data\.maxBytes of experiment\.json/,
    ],
    [
      'a recorded data.maxBytes of -5',
      -5,
      [],
      /experiment\.json data\.maxBytes is -5; expected a number of bytes > 0/,
    ],
    ['a --max-bytes of 0', undefined, ['--max-bytes', '0'], /Expected an integer >= 1/],
  ];
  for (const [name, recorded, flags, message] of sizeLimits) {
    it(`rejects ${name}`, async () => {
      const experiment = join(folder, 'maps-limit');
      rmSync(experiment, { recursive: true, force: true });
      cpSync(maps, experiment, { recursive: true });
      const path = join(experiment, 'experiment.json');
      const json = JSON.parse(readFileSync(path, 'utf8'));
      writeFileSync(path, JSON.stringify({ ...json, data: { ...json.data, maxBytes: recorded } }));
      const run = await runCli('predict', experiment, imagePath(dataset, 'sub-002'), ...flags);
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, message);
    });
  }

  it('reorients an image stored in another voxel order', async () => {
    const original = imagePath(dataset, 'sub-002');
    const volume = await readNifti(original);
    const kernels = await loadImageKernels();
    const lps = join(folder, 'lps', 'sub-002_lps.nii.gz');
    mkdirSync(dirname(lps), { recursive: true });
    await writeNifti(lps, reorient(kernels, volume, 'LPS'));
    const output = join(folder, 'out-lps');
    const run = await runCli('predict', maps, original, lps, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    const [first, second] = readRows(join(output, 'predictions.tsv')).rows;
    const difference = Number(first!.probability_AD) - Number(second!.probability_AD);
    assert.ok(Math.abs(difference) < 1e-6, `${first!.probability_AD} vs ${second!.probability_AD}`);
  });

  it('rejects an image of another voxel size', async () => {
    const volume = await readNifti(imagePath(dataset, 'sub-002'));
    const scaled = new Volume(
      volume.data,
      volume.shape,
      volume.affine.map((value, index) => (index % 4 < 3 && index < 12 ? value * 1.5 : value)),
    );
    const path = join(folder, 'scaled', 'sub-002_scaled.nii.gz');
    mkdirSync(dirname(path), { recursive: true });
    await writeNifti(path, scaled);
    const run = await runCli('predict', maps, path, '--output', join(folder, 'out-scaled'));
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /sub-002_scaled\.nii\.gz has voxels of 12 x 12 x 12 mm/);
    assert.match(run.stderr, /trained on images of 8 x 8 x 8 mm/);
  });

  it('names file inputs by their BIDS entities', () => {
    const cases: [string, string, string][] = [
      ['/x/sub-002_ses-M000_T1w.nii.gz', 'sub-002', 'ses-M000'],
      ['/x/sub-07_T1w.nii', 'sub-07', 'n/a'],
      ['/x/sub-07.hdr', 'sub-07', 'n/a'],
      ['/x/brain.nii.gz', 'brain', 'n/a'],
      ['/x/subject-1_ses-2.nii', 'subject-1_ses-2', 'n/a'],
    ];
    for (const [path, participant, session] of cases) {
      assert.deepEqual(fileIds(path), { participant_id: participant, session_id: session }, path);
    }
  });

  it('rejects two files with the same ids', async () => {
    const paths = ['a', 'b'].map((name) => join(folder, 'same', name, 'img.nii.gz'));
    for (const path of paths) {
      mkdirSync(dirname(path), { recursive: true });
      cpSync(imagePath(dataset, 'sub-002'), path);
    }
    const output = join(folder, 'out-same');
    const run = await runCli('predict', maps, ...paths, '--output', output);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /both get the ids img n\/a/);
    assert.equal(existsSync(output), false);
  });

  it('rejects an output path below a file', async () => {
    const file = join(folder, 'a-file');
    writeFileSync(file, 'not a folder');
    const run = await runCli('predict', maps, dataset, '--output', join(file, 'out'));
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /Cannot write in the output folder .*a-file is a file/);
  });

  it('leaves no output folder after a failed run', async () => {
    const text = join(folder, 'text.nii');
    writeFileSync(text, 'plain text, not an image');
    const output = join(folder, 'out-failed');
    const run = await runCli('predict', maps, text, '--output', output);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(existsSync(output), false);
  });

  it('prints help for every option', async () => {
    const run = await runCli('predict', '--help');
    assert.equal(run.status, 0);
    const options = ['--output', '--selection', '--split', '--tsv', '--batch-size', '--max-bytes'];
    for (const option of options) {
      assert.match(run.stdout, new RegExp(`${option} `));
    }
    assert.match(run.stdout, /default: 1/);
  });

  const failures: [string, () => string[], RegExp][] = [
    ['a dataset as experiment', () => [dataset, dataset], /has no experiment\.json/],
    ['a missing experiment', () => [join(folder, 'none'), dataset], /does not exist/],
    [
      'unknown selection',
      () => [maps, dataset, '--selection', 'auc'],
      /no weights 'split-0\/best-auc\/model\.safetensors'.*loss, balancedAccuracy/,
    ],
    ['a text file as data', () => [maps, join(dataset, 'participants.tsv')], /is not a NIfTI file/],
    ['a missing data file', () => [maps, join(folder, 'none.nii.gz')], /does not exist/],
    [
      'an image of another grid',
      () => [maps, '/usr/share/mricron/templates/ch2bet.nii.gz'],
      /ch2bet\.nii\.gz has voxels of 1 x 1 x 1 mm .* trained on images of 8 x 8 x 8 mm/,
    ],
  ];
  for (const [name, args, message] of failures) {
    it(`rejects ${name}`, async () => {
      const run = await runCli('predict', ...args());
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, message);
    });
  }

  it('rejects another mapsVersion', async () => {
    const copy = join(folder, 'maps-v2');
    cpSync(maps, copy, { recursive: true });
    const path = join(copy, 'experiment.json');
    const experiment = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...experiment, mapsVersion: 2 }));
    const run = await runCli('predict', copy, dataset);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /mapsVersion 2, but this version of clinicadl-webgpu reads version 1/);
  });

  it('rejects missing weights', async () => {
    const copy = join(folder, 'maps-no-weights');
    cpSync(maps, copy, { recursive: true });
    rmSync(join(copy, 'split-0', 'best-loss'), { recursive: true });
    const run = await runCli('predict', copy, dataset);
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /no weights 'split-0\/best-loss\/model\.safetensors'.*balancedAccuracy/,
    );
  });
});
