import assert from 'node:assert/strict';
import { describe, it } from 'mocha';

import { UserError } from '../../src/errors.js';
import {
  affineFromRows,
  applyAffine,
  axisCodes,
  invertAffine,
  ioOrientation,
  multiplyAffines,
  parseAxisCodes,
  Volume,
} from '../../src/data/volume.js';

const LAS_2MM = affineFromRows([
  [-2, 0, 0, 90],
  [0, 2, 0, -126],
  [0, 0, 2, -72],
]);

function closeTo(actual: readonly number[], expected: readonly number[], tolerance = 1e-9) {
  assert.equal(actual.length, expected.length);
  for (const [index, value] of actual.entries()) {
    assert.ok(
      Math.abs(value - expected[index]!) <= tolerance,
      `entry ${index}: ${value} differs from ${expected[index]}`,
    );
  }
}

describe('Volume', () => {
  it('indexes with x fastest', () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 * 2 }, (_, index) => index);
    const volume = new Volume(data, [2, 3, 4, 2], LAS_2MM);
    assert.equal(volume.get(1, 0, 0), 1);
    assert.equal(volume.get(0, 1, 0), 2);
    assert.equal(volume.get(0, 0, 1), 6);
    assert.equal(volume.get(1, 2, 3, 1), 24 + 1 + 2 * 2 + 3 * 6);
    assert.deepEqual(volume.tensorShape, [2, 4, 3, 2]);
  });

  it('exposes frames as views', () => {
    const data = Float32Array.from({ length: 2 * 2 * 1 * 3 }, (_, index) => index);
    const volume = new Volume(data, [2, 2, 1, 3], LAS_2MM);
    assert.equal(volume.frameCount, 3);
    const frame = volume.frame(2);
    assert.deepEqual(frame.shape, [2, 2, 1]);
    assert.deepEqual(Array.from(frame.data), [8, 9, 10, 11]);
    frame.data[0] = -1;
    assert.equal(volume.data[8], -1);
    assert.throws(() => volume.frame(3), /Frame 3 is out of range: the volume has 3 frame/);
  });

  it('derives spacing and orientation from the affine', () => {
    const volume = Volume.zeros([4, 4, 4], LAS_2MM);
    assert.deepEqual(volume.spacing, [2, 2, 2]);
    assert.equal(volume.orientation, 'LAS');
  });

  it('maps voxels to world and back', () => {
    const volume = Volume.zeros([91, 109, 91], LAS_2MM);
    closeTo(volume.worldFromVoxel(45, 63, 36), [0, 0, 0]);
    closeTo(volume.voxelFromWorld(0, 0, 0), [45, 63, 36]);
    closeTo(volume.voxelFromWorld(-10, 4, 2.5), [50, 65, 37.25]);
  });

  const invalid: [string, () => unknown, RegExp][] = [
    ['data length', () => new Volume(new Float32Array(5), [2, 2, 2], LAS_2MM), /has 5 values/],
    ['too few axes', () => Volume.zeros([4, 4]), /has 2 axes; expected 3 to 7/],
    ['zero size', () => Volume.zeros([4, 0, 4]), /size 0 on axis 1/],
    ['affine length', () => new Volume(new Float32Array(8), [2, 2, 2], new Float64Array(9)), /9/],
  ];
  for (const [name, build, message] of invalid) {
    it(`rejects bad ${name}`, () => {
      assert.throws(
        build,
        (error: unknown) => error instanceof UserError && message.test(error.message),
      );
    });
  }
});

describe('affine helpers', () => {
  it('inverts an oblique affine', () => {
    const oblique = affineFromRows([
      [-2, 0, 0, 117.855103],
      [0, 1.973711, -0.355528, -35.722942],
      [0, 0.323208, 2.171082, -7.248798],
    ]);
    const product = multiplyAffines(oblique, invertAffine(oblique));
    closeTo(Array.from(product), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 1e-12);
    const point = applyAffine(oblique, [3, 4, 5]);
    closeTo(applyAffine(invertAffine(oblique), point), [3, 4, 5], 1e-12);
  });

  it('rejects a singular affine', () => {
    const flat = affineFromRows([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 0],
    ]);
    assert.throws(() => invertAffine(flat), /singular \(determinant 0\)/);
  });

  const codeCases: [string, number[][], string][] = [
    [
      'RAS',
      [
        [2.4, 0, 0, 0],
        [0, 2.4, 0, 0],
        [0, 0, 2.4, 0],
      ],
      'RAS',
    ],
    [
      'LPI',
      [
        [-2.4, 0, 0, 0],
        [0, -2.4, 0, 0],
        [0, 0, -2.4, 0],
      ],
      'LPI',
    ],
    [
      'ASR',
      [
        [0, 0, 2.4, 0],
        [2.4, 0, 0, 0],
        [0, 2.4, 0, 0],
      ],
      'ASR',
    ],
    [
      'AIR',
      [
        [0, 0, 2.4, 0],
        [2.4, 0, 0, 0],
        [0, -2.4, 0, 0],
      ],
      'AIR',
    ],
    [
      'oblique PSR',
      [
        [0, -0.001648, 0.999999, 0],
        [-0.991747, 0.128206, 0.000211, 0],
        [0.128207, 0.991746, 0.001634, 0],
      ],
      'PSR',
    ],
    [
      'zero column',
      [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 0],
      ],
      'RA?',
    ],
  ];
  for (const [name, rows, expected] of codeCases) {
    it(`computes axis codes ${name}`, () => {
      assert.equal(axisCodes(affineFromRows(rows)), expected);
    });
  }

  it('parses axis codes', () => {
    assert.deepEqual(parseAxisCodes('lpi'), [
      { worldAxis: 0, sign: -1 },
      { worldAxis: 1, sign: -1 },
      { worldAxis: 2, sign: -1 },
    ]);
    assert.deepEqual(ioOrientation(LAS_2MM), [
      { worldAxis: 0, sign: -1 },
      { worldAxis: 1, sign: 1 },
      { worldAxis: 2, sign: 1 },
    ]);
    assert.throws(() => parseAxisCodes('RRS'), /'RRS' are invalid/);
    assert.throws(() => parseAxisCodes('RA'), /have 2 letters; expected 3/);
    assert.throws(() => parseAxisCodes('RAX'), /'RAX' are invalid/);
  });
});
