// The qform parameters that encode an affine, and back: every branch of the quaternion
// conversion, reflections (qfac -1) and voxel sizes.

import assert from 'node:assert/strict';
import { describe, it } from 'mocha';

import { qformAffine, qformFromAffine } from '../../../src/data/nifti/affine.js';
import { affineFromRows, type Affine } from '../../../src/data/volume.js';

// Rotation by `angle` radians about a unit axis (Rodrigues' formula), row-major 3x3.
function rotation(axis: [number, number, number], angle: number): number[][] {
  const [x, y, z] = axis;
  const [c, s, t] = [Math.cos(angle), Math.sin(angle), 1 - Math.cos(angle)];
  return [
    [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
    [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
    [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
  ];
}

function affineOf(rows: number[][], zooms: number[], offset: number[]): Affine {
  return affineFromRows(
    rows.map((row, r) => [...row.map((value, c) => value * zooms[c]!), offset[r]!]),
  );
}

const SQRT_THIRD = Math.sqrt(1 / 3);

// [name, rotation axis, angle, zooms (a negative z makes a reflection)]
const cases: [string, [number, number, number], number, number[]][] = [
  ['identity', [1, 0, 0], 0, [1, 1, 1]],
  ['small oblique', [SQRT_THIRD, SQRT_THIRD, SQRT_THIRD], 0.3, [2, 2, 2.2]],
  ['180 degrees about x', [1, 0, 0], Math.PI, [1, 2, 3]],
  ['180 degrees about y', [0, 1, 0], Math.PI, [1, 2, 3]],
  ['180 degrees about z', [0, 0, 1], Math.PI, [1, 2, 3]],
  [
    '170 degrees about a diagonal',
    [SQRT_THIRD, -SQRT_THIRD, SQRT_THIRD],
    (170 * Math.PI) / 180,
    [0.8, 0.8, 1.5],
  ],
  ['reflection of z', [0, 1, 0], 0.5, [2, 2, -2]],
  ['reflected 180 about y', [0, 1, 0], Math.PI, [1, 1, -4]],
];

describe('qformFromAffine', () => {
  for (const [name, axis, angle, zooms] of cases) {
    it(`encodes ${name}`, () => {
      const affine = affineOf(rotation(axis, angle), zooms, [10, -20, 30]);
      const qform = qformFromAffine(affine);
      const [b, c, d] = qform.quatern;
      assert.ok(b * b + c * c + d * d <= 1 + 1e-12, 'quaternion longer than 1');
      assert.equal(qform.qfac, zooms[2]! < 0 ? -1 : 1);
      assert.deepEqual(
        qform.zooms.map((zoom) => Number(zoom.toFixed(12))),
        zooms.map(Math.abs),
      );
      const decoded = qformAffine(qform.quatern, qform.offset, qform.zooms, qform.qfac);
      for (let index = 0; index < 16; index++) {
        assert.ok(
          Math.abs(decoded[index]! - affine[index]!) < 1e-9,
          `entry ${index}: ${decoded[index]} vs ${affine[index]}`,
        );
      }
    });
  }

  it('drops shear to the nearest rotation', () => {
    const sheared = affineFromRows([
      [1, 0.05, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ]);
    const qform = qformFromAffine(sheared);
    const decoded = qformAffine(qform.quatern, qform.offset, qform.zooms, qform.qfac);
    const column = (c: number) => [decoded[c]!, decoded[4 + c]!, decoded[8 + c]!];
    const dot = column(0).reduce((sum, value, r) => sum + value * column(1)[r]!, 0);
    assert.ok(Math.abs(dot) < 1e-12, `decoded columns 0 and 1 have dot product ${dot}`);
    // The shear of 0.05 is shared between the two columns by the polar decomposition.
    assert.ok(Math.abs(decoded[1]! - 0.025) < 1e-3, `column 1 x is ${decoded[1]}`);
    assert.ok(Math.abs(decoded[4]! + 0.025) < 1e-3, `column 0 y is ${decoded[4]}`);
  });
});
