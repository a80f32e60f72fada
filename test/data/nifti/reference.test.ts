// Every real test file decoded here against the values nibabel reports for it
// (test/fixtures/nifti/reference_nibabel.json; provenance in SOURCES.md next to it).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'mocha';

import { readNifti, readNiftiHeader } from '../../../src/data/nifti/node.js';
import { affineToRows, type Volume } from '../../../src/data/volume.js';
import { UserError } from '../../../src/errors.js';

const FIXTURES = new URL('../../fixtures/nifti/', import.meta.url).pathname;

interface Reference {
  shape: number[];
  nib_affine: number[][];
  axcodes: string;
  scaled_min?: number;
  scaled_max?: number;
  scaled_sum?: number;
  n_nan?: number;
  center_index?: number[];
  value_at_center?: number;
  value_at_origin_index?: number;
  label_counts?: Record<string, number>;
  sample_nonzero_voxels?: number[][];
  sum_R?: number;
  sum_G?: number;
  sum_B?: number;
}

const references = JSON.parse(readFileSync(`${FIXTURES}reference_nibabel.json`, 'utf8')) as Record<
  string,
  Reference
>;

function assertClose(actual: number, expected: number, relative: number, what: string) {
  const tolerance = relative * Math.max(1, Math.abs(expected));
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} differs from nibabel's ${expected} by more than ${tolerance}`,
  );
}

function flatIndex(shape: readonly number[], index: readonly number[]): number {
  let flat = 0;
  for (let axis = shape.length - 1; axis >= 0; axis--) flat = flat * shape[axis]! + index[axis]!;
  return flat;
}

function statistics(volume: Volume) {
  let [min, max, sum] = [Infinity, -Infinity, 0];
  for (const value of volume.data) {
    min = Math.min(min, value);
    max = Math.max(max, value);
    sum += value;
  }
  return { min, max, sum };
}

function checkGeometry(volume: Volume, reference: Reference) {
  assert.deepEqual(volume.shape, reference.shape);
  assert.equal(volume.orientation, reference.axcodes);
  const rows = affineToRows(volume.affine);
  reference.nib_affine.forEach((row, r) =>
    row.forEach((value, c) => assertClose(rows[r]![c]!, value, 1e-6, `affine[${r}][${c}]`)),
  );
}

function checkValues(volume: Volume, reference: Reference) {
  const { min, max, sum } = statistics(volume);
  assertClose(min, reference.scaled_min!, 1e-6, 'minimum');
  assertClose(max, reference.scaled_max!, 1e-6, 'maximum');
  assertClose(sum, reference.scaled_sum!, 1e-6, 'sum');
  assert.equal(volume.header.nonFiniteCount, reference.n_nan);
  const center = volume.data[flatIndex(volume.shape, reference.center_index!)]!;
  assertClose(center, reference.value_at_center!, 1e-6, 'value at the centre index');
  assertClose(volume.data[0]!, reference.value_at_origin_index!, 1e-6, 'value at index 0');
}

function checkLabels(volume: Volume, reference: Reference) {
  const counts = new Map<number, number>();
  for (const value of volume.data) counts.set(value, (counts.get(value) ?? 0) + 1);
  for (const [label, count] of Object.entries(reference.label_counts!)) {
    assert.equal(counts.get(Number(label)), count, `voxels labelled ${label}`);
  }
  assert.equal(counts.size, Object.keys(reference.label_counts!).length);
  for (const [i, j, k, value] of reference.sample_nonzero_voxels!) {
    assert.equal(volume.get(i!, j!, k!), value, `voxel (${i}, ${j}, ${k})`);
  }
}

const files = Object.keys(references).filter((name) => !name.startsWith('_'));

describe('readNifti against nibabel', () => {
  it('covers every fixture file', () => {
    assert.equal(files.length, 21);
  });

  for (const name of files) {
    const reference = references[name]!;
    if (name === 'complex_image.nii.gz') {
      it('rejects complex64 voxels', async () => {
        await assert.rejects(readNifti(`${FIXTURES}${name}`), (error: unknown) => {
          assert.ok(error instanceof UserError);
          assert.match(error.message, /complex_image\.nii\.gz: complex voxels \(complex64/);
          return true;
        });
      });
      continue;
    }
    it(`reads ${name}`, async () => {
      const volume = await readNifti(`${FIXTURES}${name}`);
      checkGeometry(volume, reference);
      if (reference.sum_R !== undefined) {
        // RGB24 becomes BT.601 luminance, and a sum of luminances is the luminance of the sums.
        const expected =
          0.299 * reference.sum_R + 0.587 * reference.sum_G! + 0.114 * reference.sum_B!;
        assertClose(statistics(volume).sum, expected, 1e-6, 'sum of luminance');
        return;
      }
      checkValues(volume, reference);
      if (reference.label_counts !== undefined) checkLabels(volume, reference);
    });
  }

  const extensionCases: [string, number[]][] = [
    ['example4d.nii.gz', [6, 6]],
    ['example_nifti2.nii.gz', [6, 6]],
    ['with_extension.nii.gz', [0]],
    ['MNI152_2009_template.nii.gz', [4]],
    ['aal.nii.gz', []],
  ];
  for (const [name, codes] of extensionCases) {
    it(`keeps the extensions of ${name}`, async () => {
      const volume = await readNifti(`${FIXTURES}${name}`);
      assert.deepEqual(
        volume.header.extensions.map((extension) => extension.code),
        codes,
      );
    });
  }

  it('keeps extension payloads', async () => {
    const volume = await readNifti(`${FIXTURES}with_extension.nii.gz`);
    const payload = volume.header.extensions[0]!.data;
    assert.equal(payload.length, 384 - 8);
    assert.match(new TextDecoder().decode(payload), /<\?xml/);
  });
});

describe('readNifti against nibabel on Analyze 7.5', () => {
  // Written by scripts/fixtures/nifti_roundtrip.py analyze: SPM origin and scale factor.
  const expected = JSON.parse(readFileSync(`${FIXTURES}analyze_spm2.json`, 'utf8'))[
    'analyze_spm2.hdr'
  ] as { shape: number[]; affine: number[][]; values: number[] };

  it('reads an SPM2 Analyze pair', async () => {
    const volume = await readNifti(`${FIXTURES}analyze_spm2.hdr`);
    assert.equal(volume.header.format, 'analyze');
    assert.deepEqual(volume.shape, expected.shape);
    assert.deepEqual(affineToRows(volume.affine), expected.affine);
    assert.deepEqual(Array.from(volume.data), expected.values);
  });
});

describe('readNiftiHeader', () => {
  const names = ['MNI152_2009_template.nii.gz', 'example_nifti2.nii.gz', 'air.img.gz', 'ras.hdr'];
  for (const name of names) {
    it(`reads the grid of ${name}`, async () => {
      const info = await readNiftiHeader(`${FIXTURES}${name}`);
      const volume = await readNifti(`${FIXTURES}${name}`);
      assert.deepEqual(info.shape, volume.shape);
      assert.deepEqual(info.affine, volume.affine);
      assert.deepEqual(info.header.extensions, volume.header.extensions);
      assert.equal(info.header.datatype, volume.header.datatype);
    });
  }

  it('rejects random bytes', async () => {
    await assert.rejects(
      readNiftiHeader(`${FIXTURES}not-nifti.nii`),
      /not-nifti\.nii is not a NIfTI/,
    );
  });
});
