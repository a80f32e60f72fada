import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';

import { readNiftiBytes } from '../../src/data/nifti/web.js';
import { affineFromRows, Volume } from '../../src/data/volume.js';
import { folderSource } from '../../src/web/drop.js';
import { argMax, labelMap, percentile, softmax, viewerImage } from '../../src/web/outputs.js';

describe('web outputs', () => {
  const softmaxCases: [string, number[], number[]][] = [
    ['two equal scores', [0.3, 0.3], [0.5, 0.5]],
    ['a shifted pair', [1, 0], [Math.E / (Math.E + 1), 1 / (Math.E + 1)]],
    ['scores past exp range', [1000, 999], [Math.E / (Math.E + 1), 1 / (Math.E + 1)]],
  ];
  for (const [name, scores, expected] of softmaxCases) {
    it(`softmax of ${name}`, () => {
      const probabilities = softmax(scores);
      probabilities.forEach((value, index) => {
        assert.ok(Math.abs(value - expected[index]!) < 1e-12, `${value} at ${index}`);
      });
    });
  }

  it('argMax takes the first of ties', () => {
    assert.equal(argMax([1, 3, 3, 2]), 1);
    assert.equal(argMax([-5]), 0);
    assert.equal(argMax(Float32Array.of(-2, -1)), 1);
  });

  it('labelMap takes the channel of the largest score', () => {
    // Two channels of three voxels: channel 1 wins at voxels 0 and 2.
    const labels = labelMap(Float32Array.of(0, 5, -1, 2, 1, 0), 3);
    assert.deepEqual(Array.from(labels), [1, 0, 1]);
  });

  it('labelMap thresholds one channel', () => {
    assert.deepEqual(Array.from(labelMap(Float32Array.of(0.2, 0.7, 0.5), 3)), [0, 1, 0]);
    assert.deepEqual(Array.from(labelMap(Float32Array.of(-1, 1), 2, 0)), [0, 1]);
  });

  it('labelMap rejects a partial channel', () => {
    assert.throws(() => labelMap(new Float32Array(7), 3), {
      name: 'UserError',
      message: /7 values, not a whole number of channels of 3 voxels/,
    });
  });

  const percentileCases: [number, number][] = [
    [0, 1],
    [0.5, 5],
    [0.9, 9],
    [1, 10],
  ];
  for (const [q, expected] of percentileCases) {
    it(`percentile ${q} of 1 to 10`, () => {
      const values = Float32Array.from([7, 3, 10, 1, 5, 9, 2, 8, 4, 6]);
      assert.equal(percentile(values, q), expected);
    });
  }

  it('percentile rejects no values', () => {
    assert.throws(() => percentile(new Float32Array(0), 0.5), { name: 'UserError' });
  });

  it('viewerImage keeps the grid', async () => {
    const affine = affineFromRows([
      [2, 0, 0, -10],
      [0, 2, 0, 5],
      [0, 0, 3, 1],
    ]);
    const grid = new Volume(new Float32Array(24), [4, 3, 2], affine);
    const data = Float32Array.from({ length: 24 }, (_, i) => i / 2);
    const image = viewerImage(grid, data, 'map.nii');
    assert.equal(image.name, 'map.nii');
    const volume = await readNiftiBytes(image.bytes, { name: image.name });
    assert.deepEqual(volume.shape, [4, 3, 2]);
    assert.deepEqual(Array.from(volume.affine), Array.from(affine));
    assert.deepEqual(volume.data, data);
  });
});

describe('web folder picker', () => {
  it('strips the folder name from relative paths', () => {
    const file = (path: string) =>
      Object.assign(new File(['x'], path.split('/').at(-1)!), { webkitRelativePath: path });
    const source = folderSource([file('maps/experiment.json'), file('maps/split-0/a.safetensors')]);
    assert.equal(source.kind, 'files');
    assert.equal(source.name, 'maps');
    const paths = source.kind === 'files' ? source.files.map((entry) => entry.path) : [];
    assert.deepEqual(paths, ['experiment.json', 'split-0/a.safetensors']);
  });
});

describe('web catalogue', () => {
  it('bundles every catalogue file', () => {
    const source = readFileSync(new URL('../../src/web/catalogue.ts', import.meta.url), 'utf8');
    const files = readdirSync(new URL('../../dsl/', import.meta.url)).filter((name) =>
      name.endsWith('.net'),
    );
    assert.ok(files.length > 0);
    for (const name of files) {
      assert.ok(source.includes(`'../../dsl/${name}'`), `${name} is imported`);
      assert.ok(source.includes(`['${name}',`), `${name} is in the table`);
    }
  });
});
