import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { readNifti } from '../../src/data/nifti/node.js';
import { checkParticipants, parseTsv } from '../../src/data/participants.js';
import { runCli } from './helpers.js';

const TEMPLATES = '/usr/share/mricron/templates';
// 8 mm voxels cropped to the brain keep each trivial run to a few hundred milliseconds.
const TINY = ['--resample', '8', '--crop', 'brain', '--workers', '0'];
const FIRST_IMAGE = 'sub-001/ses-M000/anat/sub-001_ses-M000_T1w.nii.gz';

describe('cli generate', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'cli-generate-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  function readTable(folder: string) {
    const table = parseTsv(readFileSync(join(folder, 'participants.tsv'), 'utf8'), 'participants');
    checkParticipants(table, 'diagnosis');
    return table;
  }

  // The JSON files' shapes are checked field by field below, so a loose type is enough here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = Record<string, any>;
  function readJson(path: string): Json {
    return JSON.parse(readFileSync(path, 'utf8')) as Json;
  }

  it('writes a trivial dataset', async () => {
    const out = join(root, 'trivial');
    const run = await runCli('generate', 'trivial', out, '--subjects-per-class', '2', ...TINY);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Wrote the trivial dataset to .*: 4 subjects/);
    const table = readTable(out);
    assert.deepEqual(
      table.rows.map((row) => row.diagnosis),
      ['CN', 'AD', 'CN', 'AD'],
    );
    assert.deepEqual(table.columns, ['participant_id', 'session_id', 'diagnosis', 'age', 'sex']);
    const generation = readJson(join(out, 'generation.json'));
    assert.equal(generation.generator, 'trivial');
    assert.equal(generation.seed, 0);
    assert.equal(generation.parameters.atrophyPercent, 60);
    assert.deepEqual(generation.derived.regionValues, [37, 39, 81, 83, 85, 87, 89]);
    assert.equal(generation.subjects.length, 4);
    const image = await readNifti(join(out, FIRST_IMAGE));
    assert.deepEqual(image.spatialShape, generation.derived.shape);
    assert.equal(image.header.datatype, 4, 'int16, as the uint8 input is integer-valued');
    assert.deepEqual(readJson(join(out, 'dataset_description.json')).DatasetType, 'raw');
  });

  it('atrophies a hemisphere by name pattern', async () => {
    const out = join(root, 'hemisphere');
    const args = ['--subjects-per-class', '1', '--regions', '*_L', ...TINY];
    const run = await runCli('generate', 'trivial', out, ...args);
    assert.equal(run.status, 0, run.stderr);
    const generation = readJson(join(out, 'generation.json'));
    const names = generation.parameters.regions as string[];
    assert.equal(names.length, 54, 'AAL has 54 left-hemisphere regions');
    assert.ok(names.every((name) => name.endsWith('_L')));
  });

  it('gives the same trivial dataset with or without workers', async () => {
    const args = ['--subjects-per-class', '1', '--seed', '9', '--resample', '8', '--crop', 'brain'];
    const main = join(root, 'main-thread');
    const pooled = join(root, 'pooled');
    assert.equal((await runCli('generate', 'trivial', main, ...args, '--workers', '0')).status, 0);
    assert.equal(
      (await runCli('generate', 'trivial', pooled, ...args, '--workers', '1')).status,
      0,
    );
    for (const image of [FIRST_IMAGE, FIRST_IMAGE.replaceAll('001', '002')]) {
      const a = gunzipSync(readFileSync(join(main, image)));
      const b = gunzipSync(readFileSync(join(pooled, image)));
      assert.ok(a.equals(b), `${image} differs`);
    }
  });

  it('writes a random dataset', async () => {
    const out = join(root, 'random');
    const run = await runCli('generate', 'random', out, '--subjects', '6', '--seed', '2', ...TINY);
    assert.equal(run.status, 0, run.stderr);
    const table = readTable(out);
    assert.equal(table.rows.filter((row) => row.diagnosis === 'AD').length, 3);
    assert.equal(readJson(join(out, 'generation.json')).parameters.noiseStd, 0.05);
  });

  it('writes a Shepp-Logan dataset', async () => {
    const out = join(root, 'shepplogan');
    const run = await runCli(
      'generate',
      'shepplogan',
      out,
      '--size',
      '16',
      '--subjects-per-class',
      '2',
      '--ad-subtypes',
      '0,0,1',
      '--smoothing',
    );
    assert.equal(run.status, 0, run.stderr);
    const table = readTable(out);
    assert.deepEqual(
      table.rows.map((row) => `${row.diagnosis}${row.subtype}`),
      ['CN0', 'AD2', 'CN0', 'AD2'],
    );
    const image = await readNifti(join(out, FIRST_IMAGE));
    assert.deepEqual(image.shape, [16, 16, 16]);
  });

  it('replaces a generated dataset only with --force', async () => {
    const out = join(root, 'again');
    const args = ['generate', 'shepplogan', out, '--size', '16', '--subjects-per-class', '1'];
    assert.equal((await runCli(...args)).status, 0);
    const refused = await runCli(...args);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /is not empty; choose a new folder, or add --force/);
    assert.equal((await runCli(...args, '--force')).status, 0);
  });

  describe('bad input', () => {
    const notNifti = () => {
      const path = join(root, 'notes.nii');
      writeFileSync(
        path,
        'not an image, just text that is long enough to hold a header. '.repeat(8),
      );
      return path;
    };
    const cases: [string, () => string[], RegExp][] = [
      [
        'a missing input',
        () => ['--input', join(root, 'none.nii.gz')],
        /none\.nii\.gz: file not found/,
      ],
      ['an input that is not NIfTI', () => ['--input', notNifti()], /notes\.nii/],
      ['a region the atlas lacks', () => ['--regions', '200'], /has no voxel of region 200/],
      ['a misspelt region', () => ['--regions', 'Hipocampus_L'], /did you mean 'Hippocampus_L'/],
      [
        'an atlas without a label table',
        () => ['--atlas', `${TEMPLATES}/ch2bet.nii.gz`],
        /has no label table beside it, so the default AAL regions/,
      ],
      [
        'a label table without the default regions',
        () => {
          const path = join(root, 'labels.txt');
          writeFileSync(path, '1 Precentral_L\n2 Precentral_R\n');
          return ['--atlas-labels', path];
        },
        /has no region 'Hippocampus_L', one of the default AAL regions/,
      ],
      ['a crop of two sizes', () => ['--crop', '10,10'], /Expected 3 comma-separated values/],
      ['a zero voxel size', () => ['--resample', '0'], /'0' is invalid/],
    ];
    for (const [name, extra, message] of cases) {
      it(`exits 1 for ${name}`, async () => {
        const out = join(root, `bad-${name.replaceAll(' ', '-')}`);
        const run = await runCli(
          'generate',
          'trivial',
          out,
          '--subjects-per-class',
          '1',
          ...TINY,
          ...extra(),
        );
        assert.equal(run.status, 1, run.stderr);
        assert.match(run.stderr, message);
        assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      });
    }
  });
});
