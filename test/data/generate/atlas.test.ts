import assert from 'node:assert/strict';

import {
  checkRegionsPresent,
  DEFAULT_AAL_REGIONS,
  parseLabelTable,
  resolveRegions,
} from '../../../src/data/generate/atlas.js';
import { UserError } from '../../../src/errors.js';
import { volumeOf, wasmKernels } from '../transforms/helpers.js';

const TABLE = parseLabelTable(
  [
    '# value name code',
    '37 Hippocampus_L 4101',
    '',
    '38 Hippocampus_R 4102',
    '85 Temporal_Mid_L',
  ].join('\n'),
  'test.txt',
);

describe('atlas label tables', () => {
  it('parses value and name, skipping comments', () => {
    assert.deepEqual(TABLE, [
      { value: 37, name: 'Hippocampus_L' },
      { value: 38, name: 'Hippocampus_R' },
      { value: 85, name: 'Temporal_Mid_L' },
    ]);
  });

  const invalid: [string, string, RegExp][] = [
    ['a name without a value', 'Hippocampus_L 37', /line 1: 'Hippocampus_L 37' is not a label/],
    ['a value without a name', '37', /line 1/],
    ['a zero value', '0 Background', /positive/],
    ['a fractional value', '1.5 Half', /line 1/],
    ['no regions at all', '# nothing\n\n', /has no regions/],
  ];
  for (const [name, text, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => parseLabelTable(text, 'bad.txt'),
        (error: Error) => {
          assert.ok(error instanceof UserError);
          assert.match(error.message, /^bad\.txt/);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('names the default AAL regions of one hemisphere', () => {
    assert.ok(DEFAULT_AAL_REGIONS.includes('Hippocampus_L'));
    assert.ok(DEFAULT_AAL_REGIONS.includes('ParaHippocampal_L'));
    assert.ok(DEFAULT_AAL_REGIONS.every((name) => name.endsWith('_L')));
  });
});

describe('region resolution', () => {
  it('resolves names and voxel values', () => {
    const regions = resolveRegions(['Hippocampus_R', '85', '200'], TABLE, 'aal');
    assert.deepEqual(regions, [
      { value: 38, name: 'Hippocampus_R' },
      { value: 85, name: 'Temporal_Mid_L' },
      { value: 200, name: '200' },
    ]);
  });

  it('resolves name patterns once each', () => {
    const regions = resolveRegions(['*_L', 'Hippocampus_L', 'Hippo*'], TABLE, 'aal');
    assert.deepEqual(
      regions.map((region) => region.value),
      [37, 85, 38],
    );
  });

  it('resolves voxel values without a table', () => {
    assert.deepEqual(resolveRegions(['4'], null, 'atlas.nii'), [{ value: 4, name: '4' }]);
  });

  const invalid: [string, string[], typeof TABLE | null, RegExp][] = [
    ['a misspelt name', ['Hipocampus_L'], TABLE, /did you mean 'Hippocampus_L'\?/],
    ['an unknown name', ['Cerebellum'], TABLE, /'Cerebellum' is not in the label table of aal/],
    ['a name without a table', ['Hippocampus_L'], null, /has no label table.*--atlas-labels/],
    ['an empty list', [], TABLE, /No atrophy region/],
    ['a pattern without matches', ['*_X'], TABLE, /pattern '\*_X' matches no region/],
    ['a pattern without a table', ['*_L'], null, /pattern '\*_L' needs the label table/],
  ];
  for (const [name, regions, table, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => resolveRegions(regions, table, 'aal'), message);
    });
  }
});

describe('region presence check', () => {
  it('accepts present regions and names a missing one', async () => {
    const backend = await wasmKernels();
    const atlas = volumeOf([4, 4, 4], (i) => (i < 2 ? 37 : 85));
    const present = [
      { value: 37, name: 'Hippocampus_L' },
      { value: 85, name: 'Temporal_Mid_L' },
    ];
    assert.doesNotThrow(() => checkRegionsPresent(backend, atlas, present, 'atlas.nii'));
    assert.throws(
      () =>
        checkRegionsPresent(
          backend,
          atlas,
          [...present, { value: 38, name: 'Hippocampus_R' }],
          'atlas.nii',
        ),
      /atlas atlas\.nii has no voxel of region Hippocampus_R \(value 38\)/,
    );
  });
});
