// Reorientation to RAS+ written plainly in TypeScript, with the affine in float64: the
// reference that the equal-pair tests and the Wasm image operations are checked against.

import { UserError } from '../../errors.js';
import {
  type Affine,
  derivedHeader,
  ioOrientation,
  multiplyAffines,
  Volume,
  type VolumeHeader,
  volumeName,
} from '../volume.js';

/**
 * Returns the volume with its voxel axes permuted and flipped so that they increase towards
 * Right, Anterior and Superior (axis codes 'RAS'). The affine changes so that every voxel keeps
 * its world position; frames beyond the third axis move with their voxels.
 */
export function reorientToRas(volume: Volume): Volume {
  const orientation = ioOrientation(volume.affine);
  const inputAxisOf = [0, 1, 2].map((worldAxis) =>
    orientation.findIndex((axis) => axis !== null && axis.worldAxis === worldAxis),
  );
  if (inputAxisOf.some((axis) => axis < 0)) {
    throw new UserError(
      `Cannot reorient ${volumeName(volume)} to RAS: its affine has a ` +
        `degenerate voxel axis (axis codes ${volume.orientation}); check the header transforms.`,
    );
  }
  const flips = inputAxisOf.map((axis) => orientation[axis]!.sign < 0);
  const inputShape = volume.spatialShape;
  const outputShape = inputAxisOf.map((axis) => inputShape[axis]!);
  const inputStrides = [1, inputShape[0], inputShape[0] * inputShape[1]];

  // Output axis a walks input axis inputAxisOf[a], backwards when it is flipped.
  const steps = inputAxisOf.map((axis, a) => (flips[a] ? -1 : 1) * inputStrides[axis]!);
  const start = inputAxisOf.reduce(
    (sum, axis, a) => sum + (flips[a] ? (inputShape[axis]! - 1) * inputStrides[axis]! : 0),
    0,
  );
  const data = new Float32Array(volume.data.length);
  const frameSize = volume.frameSize;
  const [nx, ny, nz] = outputShape as [number, number, number];
  for (let frame = 0; frame < volume.frameCount; frame++) {
    const base = frame * frameSize;
    let out = base;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        let input = base + start + k * steps[2]! + j * steps[1]!;
        for (let i = 0; i < nx; i++, input += steps[0]!) data[out++] = volume.data[input]!;
      }
    }
  }
  const affine = multiplyAffines(volume.affine, outputToInput(inputAxisOf, flips, inputShape));
  const header = derivedHeader(permuteHeader(volume.header, inputAxisOf), 'reorientToRas');
  return new Volume(data, [...outputShape, ...volume.shape.slice(3)], affine, header);
}

// The 4x4 map from an output voxel index to the input voxel index it was copied from.
function outputToInput(inputAxisOf: number[], flips: boolean[], inputShape: number[]): Affine {
  const transform = new Float64Array(16);
  transform[15] = 1;
  inputAxisOf.forEach((axis, a) => {
    transform[4 * axis + a] = flips[a] ? -1 : 1;
    transform[4 * axis + 3] = flips[a] ? inputShape[axis]! - 1 : 0;
  });
  return transform;
}

// Voxel sizes and the frequency, phase and slice axes of dim_info follow their axes.
function permuteHeader(header: VolumeHeader, inputAxisOf: number[]): VolumeHeader {
  const pixdim = [...header.pixdim];
  inputAxisOf.forEach((axis, a) => (pixdim[a] = header.pixdim[axis] ?? 1));
  const outputAxisOf = (inputAxis: number) => inputAxisOf.indexOf(inputAxis);
  let dimInfo = 0;
  for (const shift of [0, 2, 4]) {
    const field = (header.dimInfo >> shift) & 3;
    if (field !== 0) dimInfo |= (outputAxisOf(field - 1) + 1) << shift;
  }
  return { ...header, pixdim, dimInfo };
}
