import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Dataset } from '../../src/data/dataset.js';
import { parseDatasetConfig, type DatasetConfigInput } from '../../src/data/dataset-config.js';
import { formatTsv } from '../../src/data/participants.js';
import { makeKFold } from '../../src/data/splits.js';
import { UserError } from '../../src/errors.js';
import { writeTinyBids, type TinyBids } from './dataset-helpers.js';

describe('Dataset', () => {
  let bids: TinyBids;
  before(async () => {
    bids = await writeTinyBids(4);
  });
  after(async () => {
    await bids.remove();
  });

  const bidsConfig = (extra: Partial<DatasetConfigInput> = {}): DatasetConfigInput => ({
    tsv: bids.tsv,
    image: { layout: 'bids', root: bids.root },
    labels: { label: { column: 'diagnosis' }, age: { kind: 'float' } },
    labelKey: 'label',
    ...extra,
  });

  it('finds BIDS images and parses labels', async () => {
    const dataset = await Dataset.open(bidsConfig());
    assert.equal(dataset.length, 4);
    assert.deepEqual(dataset.classes, { label: ['AD', 'CN'] });
    assert.deepEqual(
      dataset.records.map((record) => record.labels),
      [
        { label: 1, age: 60 },
        { label: 0, age: 62.5 },
        { label: 0, age: 65 },
        { label: 1, age: 67.5 },
      ],
    );
    const first = dataset.records[0]!;
    assert.equal(first.participant_id, 'sub-001');
    assert.equal(
      first.paths.image,
      join(bids.root, 'sub-001/ses-M000/anat/sub-001_ses-M000_T1w.nii.gz'),
    );
  });

  it('keeps the given class order', async () => {
    const dataset = await Dataset.open(
      bidsConfig({ labels: { label: { column: 'diagnosis', classes: ['CN', 'AD'] } } }),
    );
    assert.deepEqual(
      dataset.records.map((record) => record.labels.label),
      [0, 1, 1, 0],
    );
  });

  it('reads the path column and the mask layout', async () => {
    const dataset = await Dataset.open({
      tsv: bids.tsv,
      image: { layout: 'column' },
      masks: { mask: { layout: 'bids', root: bids.root, suffix: 'mask' } },
      labelKey: 'mask',
    });
    const record = dataset.records[2]!;
    assert.equal(
      record.paths.image,
      join(bids.root, 'sub-003/ses-M000/anat/sub-003_ses-M000_T1w.nii.gz'),
    );
    assert.equal(
      record.paths.mask,
      join(bids.root, 'sub-003/ses-M000/anat/sub-003_ses-M000_mask.nii.gz'),
    );
  });

  it('reads a CAPS layout', async () => {
    // The BIDS folder doubles as a CAPS folder when 'subjects' points back at its root.
    const { symlink } = await import('node:fs/promises');
    await symlink(bids.root, join(bids.root, 'subjects'));
    const dataset = await Dataset.open({
      tsv: bids.tsv,
      image: {
        layout: 'caps',
        root: bids.root,
        pattern: 'anat/{participant_id}_{session_id}_T1w.nii.gz',
      },
    });
    assert.equal(
      dataset.records[1]!.paths.image,
      join(bids.root, 'subjects/sub-002/ses-M000/anat/sub-002_ses-M000_T1w.nii.gz'),
    );
  });

  it('selects a subset by ids', async () => {
    const dataset = await Dataset.open(bidsConfig());
    const subset = dataset.subset([{ participant_id: 'sub-003', session_id: 'ses-M000' }]);
    assert.equal(subset.length, 1);
    assert.equal(subset.records[0]!.participant_id, 'sub-003');
    assert.throws(
      () => dataset.subset([{ participant_id: 'sub-099', session_id: 'ses-M000' }]),
      /sub-099 ses-M000 is not in the dataset table/,
    );
  });

  it('splits into train and validation', async () => {
    const dataset = await Dataset.open(bidsConfig());
    const folds = makeKFold(dataset.table, 2, { stratify: 'diagnosis', seed: 1 });
    for (const fold of folds) {
      const train = dataset.subset(fold.train);
      const validation = dataset.subset(fold.validation);
      assert.equal(train.length + validation.length, 4);
      assert.deepEqual(train.classes, dataset.classes);
      const labels = validation.records.map((record) => record.labels.label).sort();
      assert.deepEqual(labels, [0, 1]);
    }
  });

  it('round-trips its configuration through JSON', () => {
    const config = parseDatasetConfig({
      ...bidsConfig(),
      transforms: {
        image: [{ op: 'resample', spacing: 2 }, { op: 'zScore' }],
        extraction: { mode: 'patch', patchSize: [8, 8, 8], stride: 4 },
        augmentation: { flip: { probability: 0.5 }, noise: { min: 0, max: 0.1 } },
      },
    });
    assert.deepEqual(parseDatasetConfig(JSON.parse(JSON.stringify(config))), config);
    assert.equal(config.image.layout === 'bids' && config.image.suffix, 'T1w');
    assert.deepEqual(config.transforms.sample, []);
  });

  describe('bad input', () => {
    const writeTable = async (name: string, columns: string[], rows: Record<string, string>[]) => {
      const path = join(bids.root, name);
      await writeFile(path, formatTsv(columns, rows));
      return path;
    };
    const row = (participant: string, diagnosis = 'CN', age = '70') => ({
      participant_id: participant,
      session_id: 'ses-M000',
      diagnosis,
      age,
    });
    const columns = ['participant_id', 'session_id', 'diagnosis', 'age'];

    const cases: [string, () => Promise<DatasetConfigInput>, RegExp][] = [
      [
        'a missing label column',
        async () => ({ ...bidsConfig(), labels: { label: { column: 'diagnosys' } } }),
        /missing column 'diagnosys' \(did you mean 'diagnosis'\?\)/,
      ],
      [
        'a missing session column',
        async () => ({
          ...bidsConfig(),
          tsv: await writeTable(
            'no-session.tsv',
            ['participant_id', 'diagnosis'],
            [{ participant_id: 'sub-001', diagnosis: 'CN' }],
          ),
        }),
        /missing column 'session_id'/,
      ],
      [
        'an unknown participant',
        async () => ({
          ...bidsConfig(),
          tsv: await writeTable('unknown.tsv', columns, [row('sub-001'), row('sub-042')]),
        }),
        /1 participant\(s\) have no folder in .*: sub-042 \(line 3\)/,
      ],
      [
        'a missing image file',
        async () => ({
          ...bidsConfig(),
          image: { layout: 'bids', root: bids.root, suffix: 'FLAIR' },
        }),
        /4 image file\(s\) of the dataset are missing: line 2 image: .*sub-001_ses-M000_FLAIR\.nii\.gz/,
      ],
      [
        'an empty label',
        async () => ({
          ...bidsConfig(),
          tsv: await writeTable('empty.tsv', columns, [row('sub-001'), row('sub-002', '')]),
        }),
        /empty.tsv, line 3: empty value in label column 'diagnosis'/,
      ],
      [
        'a float label that is text',
        async () => ({
          ...bidsConfig(),
          tsv: await writeTable('age.tsv', columns, [row('sub-001', 'CN', 'old')]),
        }),
        /line 2: 'old' in column 'age' is not a number/,
      ],
      [
        'a class not in the list',
        async () => ({
          ...bidsConfig(),
          labels: { label: { column: 'diagnosis', classes: ['CN', 'AD'] } },
          tsv: await writeTable('mci.tsv', columns, [row('sub-001'), row('sub-002', 'MCI')]),
        }),
        /mci.tsv, line 3: class 'MCI' in column 'diagnosis' is not one of the configured classes \(CN, AD\)/,
      ],
      [
        'an unknown labelKey',
        async () => ({ ...bidsConfig(), labelKey: 'lable' }),
        /labelKey 'lable' is not a label or mask field \(did you mean 'label'\?\)/,
      ],
      [
        'a label named image',
        async () => ({
          ...bidsConfig(),
          labels: { image: { column: 'diagnosis' } },
          labelKey: undefined,
        }),
        /field 'image' is defined twice/,
      ],
      [
        'a missing table',
        async () => ({ ...bidsConfig(), tsv: join(bids.root, 'absent.tsv') }),
        /absent.tsv cannot be read \(ENOENT\)/,
      ],
      [
        'an unknown layout field',
        async () => ({
          ...bidsConfig(),
          image: { layout: 'bids', root: bids.root, sufix: 'T1w' } as never,
        }),
        /unknown field 'sufix'/,
      ],
    ];
    cases.push(
      [
        'an unknown extraction mode',
        async () => ({ ...bidsConfig(), transforms: { extraction: { mode: 'roi' } as never } }),
        /DatasetConfig\.transforms\.extraction\.mode: .*got "roi"/,
      ],
      [
        'a negative patch size',
        async () => ({
          ...bidsConfig(),
          transforms: { extraction: { mode: 'patch', patchSize: -8 } },
        }),
        /DatasetConfig\.transforms\.extraction\.patchSize: .*got -8/,
      ],
    );
    for (const [name, makeConfig, message] of cases) {
      it(`rejects ${name}`, async () => {
        const config = await makeConfig();
        await assert.rejects(Dataset.open(config), (error: Error) => {
          assert.ok(error instanceof UserError, `expected a UserError, got ${error.name}`);
          assert.match(error.message, message);
          return true;
        });
      });
    }
  });
});
