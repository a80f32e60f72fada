import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readNifti } from '../../src/data/nifti/node.js';
import { parseTsv } from '../../src/data/participants.js';
import { insideCrop, writeDenseExperiment } from '../experiment/dense-fixture.js';
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
    const map = await readNifti(join(output, 'sub-003_ses-M000_T1w_saliency.nii.gz'));
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

  it('rejects a reconstruction model', async () => {
    const experiment = join(folder, 'reconstruction');
    writeDenseExperiment(experiment, 'reconstruction');
    const run = await runCli('interpret', experiment, imagePath(dataset, 'sub-001'));
    assert.equal(run.status, 1);
    assert.match(run.stderr, /reconstruction model, whose output has no class/);
  });
});
