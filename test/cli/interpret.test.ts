import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readNifti } from '../../src/data/nifti/node.js';
import { parseTsv } from '../../src/data/participants.js';
import {
  insideCrop,
  writeDenseExperiment,
  writePatchClassifier,
  writeSliceClassifier,
} from '../experiment/dense-fixture.js';
import { runCli } from './helpers.js';

function imagePath(dataset: string, participant: string): string {
  return join(dataset, participant, 'ses-M000', 'anat', `${participant}_ses-M000_T1w.nii.gz`);
}

describe('interpret command', () => {
  let folder: string;
  let maps: string;
  let dataset: string;
  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'interpret-'));
    const demo = await runCli('demo', '--quick', '--output', folder);
    assert.equal(demo.status, 0, demo.stderr);
    maps = join(folder, 'maps');
    dataset = join(folder, 'dataset');
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('writes saliency maps on the input grid', async () => {
    const output = join(folder, 'out');
    const run = await runCli('interpret', maps, dataset, '--output', output);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Saliency maps of 8 images/);
    const table = parseTsv(readFileSync(join(output, 'saliency.tsv'), 'utf8'));
    assert.deepEqual(table.columns, [
      'participant_id',
      'session_id',
      'target',
      'predicted_label',
      'target_probability',
      'saliency_max',
      'saliency_path',
    ]);
    assert.equal(table.rows.length, 8);
    for (const row of table.rows) {
      // Without --target, each map explains the predicted class.
      assert.equal(row.target, row.predicted_label);
      const participant = row.participant_id!;
      const image = await readNifti(imagePath(dataset, participant));
      const map = await readNifti(join(output, row.saliency_path!));
      assert.deepEqual(map.shape, image.shape);
      assert.deepEqual([...map.affine], [...image.affine]);
      let max = 0;
      let min = Infinity;
      let sum = 0;
      for (const value of map.data) {
        assert.ok(value >= 0, `${participant}: saliency is |gradient|`);
        max = Math.max(max, value);
        min = Math.min(min, value);
        sum += value;
      }
      assert.ok(Math.abs(max - Number(row.saliency_max)) < 1e-6 * max);
      // A real image gives a map that varies: its spread is a sizeable part of its mean.
      const mean = sum / map.data.length;
      let variance = 0;
      for (const value of map.data) variance += (value - mean) ** 2;
      assert.ok(max > min, `${participant}: map is uniform`);
      assert.ok(Math.sqrt(variance / map.data.length) > 0.1 * mean, `${participant}: spread`);
    }
  });

  it('explains the class given by --target', async () => {
    const output = join(folder, 'out-target');
    const file = imagePath(dataset, 'sub-002');
    const byName = await runCli('interpret', maps, file, '--output', output, '--target', 'CN');
    assert.equal(byName.status, 0, byName.stderr);
    const named = parseTsv(readFileSync(join(output, 'saliency.tsv'), 'utf8')).rows[0]!;
    assert.equal(named.target, 'CN');
    const first = await readNifti(join(output, named.saliency_path!));
    const other = join(folder, 'out-index');
    const byIndex = await runCli('interpret', maps, file, '--output', other, '--target', '0');
    assert.equal(byIndex.status, 0, byIndex.stderr);
    const second = await readNifti(join(other, named.saliency_path!));
    assert.deepEqual(second.data, first.data);
  });

  it('draws saliency overlays in report.html', () => {
    const html = readFileSync(join(maps, 'report.html'), 'utf8');
    const figures = html.match(/<figure>/g)?.length ?? 0;
    const overlays = html.match(/<img class="slice saliency"[^>]+src="data:image\/png;base64,/g);
    assert.ok(figures > 0);
    assert.equal(overlays?.length, 3 * figures);
    assert.equal(html.match(/, saliency of (CN|AD)<\/figcaption>/g)?.length, figures);
  });

  it('prints help for --target', async () => {
    const run = await runCli('interpret', '--help');
    assert.equal(run.status, 0);
    assert.match(run.stdout, /--target <class> +class \(name or index\)/);
  });

  const failures: [string, () => string[], RegExp][] = [
    [
      'an unknown target',
      () => [maps, dataset, '--target', 'MCI'],
      /Target 'MCI' is not a class of the model: give a class name \(CN, AD\) or an index from 0 to 1/,
    ],
    ['a dataset as experiment', () => [dataset, dataset], /has no experiment\.json/],
    ['a text file as data', () => [maps, join(dataset, 'participants.tsv')], /is not a NIfTI file/],
  ];
  for (const [name, args, message] of failures) {
    it(`rejects ${name}`, async () => {
      const run = await runCli('interpret', ...args());
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, message);
    });
  }

  it('explains a segmentation channel', async () => {
    // Channel 1 copies the cropped input, so the gradient of its sum is 1 inside the crop.
    const experiment = join(folder, 'segmentation');
    writeDenseExperiment(experiment, 'segmentation');
    const output = join(folder, 'out-segmentation');
    const input = imagePath(dataset, 'sub-003');
    const run = await runCli('interpret', experiment, input, '--target', '1', '--output', output);
    assert.equal(run.status, 0, run.stderr);
    const image = await readNifti(input);
    const map = await readNifti(join(output, 'sub-003_ses-M000_saliency.nii.gz'));
    const [nx, ny, nz] = image.spatialShape;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const expected = insideCrop(image.spatialShape, i, j, k) ? 1 : 0;
          const actual = map.data[image.index(i, j, k)]!;
          assert.ok(Math.abs(actual - expected) < 1e-6, `voxel ${i}, ${j}, ${k}: ${actual}`);
        }
      }
    }
  });

  it('gives the whole-image map from overlapping patches', async () => {
    // Patches of 8 x 7 x 6 voxels every 4 x 7 x 6 cover the crop, x twice in places. Each
    // patch's map is 1 on its own voxels, so the averaged map equals the whole-image one.
    const whole = join(folder, 'segmentation-whole');
    const patches = join(folder, 'segmentation-patches');
    writeDenseExperiment(whole, 'segmentation');
    const extraction = { mode: 'patch' as const, patchSize: [8, 7, 6], stride: [4, 7, 6] };
    writeDenseExperiment(patches, 'segmentation', extraction);
    const input = imagePath(dataset, 'sub-006');
    const maps = [];
    for (const experiment of [whole, patches]) {
      const output = `${experiment}-out`;
      const run = await runCli('interpret', experiment, input, '--output', output);
      assert.equal(run.status, 0, run.stderr);
      const row = parseTsv(readFileSync(join(output, 'saliency.tsv'), 'utf8')).rows[0]!;
      assert.equal(row.target, '1');
      assert.equal(row.samples, experiment === whole ? undefined : '12');
      maps.push(await readNifti(join(output, row.saliency_path!)));
    }
    const image = await readNifti(input);
    const [nx, ny, nz] = image.spatialShape;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const index = image.index(i, j, k);
          const expected = insideCrop(image.spatialShape, i, j, k) ? 1 : 0;
          assert.ok(Math.abs(maps[1]!.data[index]! - expected) < 1e-6, `voxel ${i}, ${j}, ${k}`);
          assert.equal(maps[1]!.data[index], maps[0]!.data[index]);
        }
      }
    }
  });

  // The AD score of a patch or slice is the sum of its voxels, so its gradient is 1 on the
  // sample; CN scores 0 everywhere. 2 x 3 x 2 patches of 8 voxels cover x < 16, y < 24,
  // z < 16; the slices across y cover 3 <= y < 23.
  type Covered = (i: number, j: number, k: number) => boolean;
  const patches: Covered = (i, j, k) => i < 16 && j < 24 && k < 16;
  const slices: Covered = (_i, j) => j >= 3 && j < 23;
  const classifiers: [string, (root: string) => void, Covered, string, string[], number][] = [
    ['the voted class of a patch', writePatchClassifier, patches, '12', [], 1],
    ['class CN of a patch', writePatchClassifier, patches, '12', ['--target', 'CN'], 0],
    ['the voted class of a slice', writeSliceClassifier, slices, '20', [], 1],
  ];
  for (const [name, write, covered, samples, flags, inside] of classifiers) {
    it(`explains ${name} classifier`, async () => {
      const experiment = join(folder, `classifier-${samples}`);
      write(experiment);
      const output = join(folder, `classifier-${samples}-${inside}`);
      const input = imagePath(dataset, 'sub-004');
      const run = await runCli('interpret', experiment, input, '--output', output, ...flags);
      assert.equal(run.status, 0, run.stderr);
      const row = parseTsv(readFileSync(join(output, 'saliency.tsv'), 'utf8')).rows[0]!;
      assert.equal(row.target, inside === 1 ? 'AD' : 'CN');
      assert.equal(row.predicted_label, 'AD');
      assert.equal(row.samples, samples);
      const map = await readNifti(join(output, row.saliency_path!));
      const [nx, ny, nz] = map.spatialShape;
      for (let k = 0; k < nz; k++) {
        for (let j = 0; j < ny; j++) {
          for (let i = 0; i < nx; i++) {
            const expected = covered(i, j, k) ? inside : 0;
            assert.equal(map.data[map.index(i, j, k)], expected, `voxel ${i}, ${j}, ${k}`);
          }
        }
      }
    });
  }

  it('rejects an image above --max-bytes', async () => {
    const run = await runCli('interpret', maps, imagePath(dataset, 'sub-001'), '--max-bytes', '4');
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /more than the limit of 4 bytes set by --max-bytes/);
  });

  it('rejects a reconstruction model', async () => {
    const experiment = join(folder, 'reconstruction');
    writeDenseExperiment(experiment, 'reconstruction');
    const run = await runCli('interpret', experiment, imagePath(dataset, 'sub-001'));
    assert.equal(run.status, 1);
    assert.match(run.stderr, /reconstruction model, whose output has no class/);
  });
});
