// Decoding of synthetic files: every datatype in both byte orders, scaling, all seven dims,
// the three affine sources and Analyze 7.5 headers.

import assert from 'node:assert/strict';
import { describe, it } from 'mocha';

import { readNiftiBytes } from '../../../src/data/nifti/web.js';
import { affineToRows } from '../../../src/data/volume.js';
import { buildNifti, buildParts, type BuildOptions, captureLog } from './build.js';

const TWO_63 = 2n ** 63n;

// [name, code, bitpix, stored values, expected float32 values]
const datatypeCases: [string, number, number, (number | bigint)[], number[]][] = [
  ['uint8', 2, 8, [0, 1, 128, 255], [0, 1, 128, 255]],
  ['int8', 256, 8, [-128, -1, 0, 127], [-128, -1, 0, 127]],
  ['int16', 4, 16, [-32768, -1, 0, 32767], [-32768, -1, 0, 32767]],
  ['uint16', 512, 16, [0, 1, 40000, 65535], [0, 1, 40000, 65535]],
  [
    'int32',
    8,
    32,
    [-2147483648, -1, 16777217, 2147483647],
    [-2147483648, -1, 16777216, 2147483648],
  ],
  ['uint32', 768, 32, [0, 1, 16777217, 4294967295], [0, 1, 16777216, 4294967296]],
  [
    'int64',
    1024,
    64,
    [-(2n ** 40n) - 3n, -1n, 0n, 2n ** 53n + 1n],
    [-1099511627776, -1, 0, 2 ** 53],
  ],
  ['uint64', 1280, 64, [0n, 1n, 2n ** 32n + 5n, TWO_63], [0, 1, 4294967296, 2 ** 63]],
  ['float32', 16, 32, [-1.5, 0, 3.25, 1e30], [-1.5, 0, 3.25, Math.fround(1e30)]],
  [
    'float64',
    64,
    64,
    [-1.5, 1 / 3, 1e-40, 1e300],
    [-1.5, Math.fround(1 / 3), Math.fround(1e-40), Infinity],
  ],
];

function volumeOf(options: Partial<BuildOptions> & Pick<BuildOptions, 'values'>, readOptions = {}) {
  const full: BuildOptions = {
    shape: [options.values.length, 1, 1],
    datatype: 16,
    bitpix: 32,
    ...options,
  };
  return readNiftiBytes(buildNifti(full), { name: 'test.nii', nonFinite: 'keep', ...readOptions });
}

describe('decodeNifti datatypes', () => {
  for (const [name, datatype, bitpix, values, expected] of datatypeCases) {
    for (const littleEndian of [true, false]) {
      it(`converts ${name} ${littleEndian ? 'little' : 'big'}-endian`, async () => {
        const read = () => volumeOf({ datatype, bitpix, values, littleEndian });
        const { result: volume } = await captureLog(read);
        assert.deepEqual(Array.from(volume.data), expected);
        assert.equal(volume.header.datatype, datatype);
      });
    }
  }

  it('converts RGB24 to luminance', async () => {
    const volume = await volumeOf({
      datatype: 128,
      bitpix: 24,
      values: [0xff0000, 0x00ff00, 0x0000ff, 0x102030],
    });
    const expected = [0.299 * 255, 0.587 * 255, 0.114 * 255, 0.299 * 16 + 0.587 * 32 + 0.114 * 48];
    assert.deepEqual(Array.from(volume.data), expected.map(Math.fround));
  });

  it('converts RGBA32 ignoring alpha', async () => {
    const volume = await volumeOf({ datatype: 2304, bitpix: 32, values: [0xff000000, 0x00ff00ff] });
    assert.deepEqual(Array.from(volume.data), [0.299 * 255, 0.587 * 255].map(Math.fround));
  });
});

describe('decodeNifti scaling', () => {
  const cases: [string, number, number, number[]][] = [
    ['slope and intercept', 2, -3, [-5, -3, 197]],
    ['zero slope as none', 0, 7, [-1, 0, 100]],
    ['NaN slope as none', NaN, 7, [-1, 0, 100]],
  ];
  for (const [name, slope, inter, expected] of cases) {
    it(`applies ${name}`, async () => {
      const volume = await volumeOf({
        datatype: 4,
        bitpix: 16,
        values: [-1, 0, 100],
        slope,
        inter,
      });
      assert.deepEqual(Array.from(volume.data), expected);
      assert.equal(volume.header.sclSlope, slope === 2 ? 2 : 1);
    });
  }

  it('scales in float64 before rounding', async () => {
    const volume = await volumeOf({
      datatype: 8,
      bitpix: 32,
      values: [16777217],
      slope: 1,
      inter: -16777216,
    });
    assert.deepEqual(Array.from(volume.data), [1]);
  });
});

describe('decodeNifti dims', () => {
  it('reads dims 6 and 7', async () => {
    const shape = [2, 1, 1, 1, 1, 2, 3];
    const values = Array.from({ length: 12 }, (_, index) => index);
    const volume = await volumeOf({ shape, values });
    assert.deepEqual(volume.shape, shape);
    assert.deepEqual(Array.from(volume.data), values);
    assert.equal(volume.frameCount, 6);
  });

  it('ignores dims beyond dim[0]', async () => {
    const volume = await volumeOf({ shape: [3, 2, 1, 5, 7], rank: 2, values: [1, 2, 3, 4, 5, 6] });
    assert.deepEqual(volume.shape, [3, 2, 1]);
  });
});

// 180 degrees about z stored with rounding: b² + c² + d² is just above 1 in float32.
const ROUNDED_QUATERNION: [number, number, number] = [0, 0, 1.0000001];

describe('decodeNifti affine', () => {
  const cases: [string, Partial<BuildOptions>, number[][]][] = [
    [
      'sform before qform',
      {
        sformCode: 1,
        qformCode: 2,
        srow: [2, 0, 0, -1, 0, 3, 0, -2, 0, 0, 4, -3],
        quatern: [1, 0, 0],
      },
      [
        [2, 0, 0, -1],
        [0, 3, 0, -2],
        [0, 0, 4, -3],
      ],
    ],
    [
      'qform when sform_code is 0',
      { qformCode: 1, quatern: [0, 0, 0], qoffset: [5, 6, 7], pixdim: [1, 2, 3, 4, 1, 1, 1, 1] },
      [
        [2, 0, 0, 5],
        [0, 3, 0, 6],
        [0, 0, 4, 7],
      ],
    ],
    [
      'qfac -1 flipping z',
      { qformCode: 1, quatern: [0, 0, 0], pixdim: [-1, 2, 3, 4, 1, 1, 1, 1] },
      [
        [2, 0, 0, 0],
        [0, 3, 0, 0],
        [0, 0, -4, 0],
      ],
    ],
    [
      'rounded quaternion clamped',
      { qformCode: 1, quatern: ROUNDED_QUATERNION, pixdim: [0, 2, 3, 4, 1, 1, 1, 1] },
      [
        [-2, 0, 0, 0],
        [0, -3, 0, 0],
        [0, 0, 4, 0],
      ],
    ],
    [
      'pixdim when both codes are 0',
      { shape: [4, 5, 6], pixdim: [0, 2, 3, 4, 1, 1, 1, 1] },
      [
        [-2, 0, 0, 3],
        [0, 3, 0, -6],
        [0, 0, 4, -10],
      ],
    ],
  ];
  for (const [name, options, expected] of cases) {
    it(`uses ${name}`, async () => {
      const volume = await volumeOf({
        shape: [4, 5, 6],
        values: new Array(120).fill(0),
        ...options,
      });
      const rows = affineToRows(volume.affine).slice(0, 3);
      rows.forEach((row, r) =>
        row.forEach((value, c) =>
          assert.ok(Math.abs(value - expected[r]![c]!) < 1e-6, `[${r}][${c}] = ${value}`),
        ),
      );
    });
  }
});

describe('decodeNifti Analyze 7.5', () => {
  const base: BuildOptions = {
    shape: [4, 5, 6],
    datatype: 4,
    bitpix: 16,
    values: Array.from({ length: 120 }, (_, index) => index),
    magic: '',
    pixdim: [0, 2, 3, 4, 1, 1, 1, 1],
    voxOffset: 0,
  };
  const cases: [string, Partial<BuildOptions>, number, number, number[]][] = [
    ['centre without origin', {}, 1, 0, [3, -6, -10]],
    ['SPM origin', { analyzeOrigin: [2, 3, 4] }, 1, 0, [2, -6, -12]],
    ['origin outside the image', { analyzeOrigin: [9, 3, 4] }, 1, 0, [3, -6, -10]],
    ['scl_slope scaling', { slope: 0.5, inter: 2 }, 0.5, 2, [3, -6, -10]],
    [
      'glmax and cal_max scaling',
      { slope: 0, glRange: [0, 100], calRange: [10, 60] },
      0.5,
      10,
      [3, -6, -10],
    ],
  ];
  for (const [name, options, slope, inter, translation] of cases) {
    it(`reads ${name}`, async () => {
      const { header, voxels } = buildParts({ ...base, ...options });
      const volume = await readNiftiBytes(header, { name: 'test.hdr', image: voxels });
      assert.equal(volume.header.format, 'analyze');
      assert.deepEqual([volume.header.sclSlope, volume.header.sclInter], [slope, inter]);
      assert.equal(volume.get(3, 4, 5), 119 * slope + inter);
      const rows = affineToRows(volume.affine);
      assert.deepEqual([rows[0]![0], rows[1]![1], rows[2]![2]], [-2, 3, 4]);
      assert.deepEqual(
        rows.slice(0, 3).map((row) => row[3]),
        translation,
      );
    });
  }
});
