// Reorientation: reorders and flips the voxel axes so that they follow given axis codes (RAS+
// by default), and updates the affine so that every voxel keeps its world position.

import { UserError } from '../../errors.js';
import { ioOrientation, parseAxisCodes, type Affine, type Volume } from '../volume.js';
import type { Dims, ImageBackend } from '../wasm/backend.js';
import { mapFrames, volumeName } from './grid.js';

/** How to move the voxels of one grid into a target orientation. */
export interface ReorientPlan {
  /** Output axis a reads input axis axisOf[a]. */
  axisOf: Dims;
  /** Output axis a runs backwards along its input axis. */
  flips: [boolean, boolean, boolean];
  outDims: Dims;
  affine: Affine;
}

/** Plans the permutation and flips that bring `volume` to the axis codes `target`. */
export function planReorient(volume: Volume, target = 'RAS'): ReorientPlan {
  const wanted = parseAxisCodes(target);
  const current = ioOrientation(volume.affine);
  const axisOf: number[] = [];
  const flips: boolean[] = [];
  for (const goal of wanted) {
    const input = current.findIndex((axis) => axis !== null && axis.worldAxis === goal.worldAxis);
    if (input < 0) {
      throw new UserError(
        `Cannot reorient ${volumeName(volume)} to ${target}: its affine has no voxel axis along ` +
          `world axis ${'RAS'[goal.worldAxis]} (orientation ${volume.orientation}). ` +
          'Check the sform, qform and pixdim of the file.',
      );
    }
    axisOf.push(input);
    flips.push(current[input]!.sign !== goal.sign);
  }
  const dims = volume.spatialShape;
  const outDims = axisOf.map((axis) => dims[axis]!) as unknown as Dims;
  // Output voxel o sits at input voxel p with p[axisOf[a]] = flip ? n_a - 1 - o_a : o_a, so
  // the new affine is the old one times that index map.
  const affine = new Float64Array(16);
  affine[15] = 1;
  for (let row = 0; row < 3; row++) {
    let shift = volume.affine[4 * row + 3]!;
    for (let a = 0; a < 3; a++) {
      const column = volume.affine[4 * row + axisOf[a]!]!;
      affine[4 * row + a] = flips[a] ? -column : column;
      if (flips[a]) shift += column * (outDims[a]! - 1);
    }
    affine[4 * row + 3] = shift;
  }
  return {
    axisOf: axisOf as unknown as Dims,
    flips: flips as [boolean, boolean, boolean],
    outDims,
    affine,
  };
}

/**
 * Returns `volume` with its voxel axes in the orientation `target` (default 'RAS'). A volume
 * already in that orientation is returned itself, not copied, as nibabel's
 * as_closest_canonical does.
 */
export function reorient(backend: ImageBackend, volume: Volume, target = 'RAS'): Volume {
  const plan = planReorient(volume, target);
  const dims = volume.spatialShape;
  if (plan.axisOf.every((axis, a) => axis === a) && !plan.flips.some(Boolean)) return volume;
  return mapFrames('reorient', volume, plan.outDims, plan.affine, (frame) =>
    backend.permuteFlip(frame, dims, plan.axisOf, plan.flips),
  );
}
