// The voxel-to-world affine of a NIfTI header, and the inverse step for writing: the qform
// parameters (quaternion, offsets, pixdim, qfac) that encode an affine.
//
// Which transform is used, in order (the same choice as nibabel 5.0's get_best_affine):
// 1. sform_code not 0: the srow_x, srow_y and srow_z rows.
// 2. qform_code not 0: the quaternion, qoffset and pixdim, with qfac = -1 when pixdim[0] < 0 and
//    +1 otherwise (pixdim[0] = 0 included).
// 3. Both codes 0, and Analyze 7.5: a diagonal of the voxel sizes with x flipped (radiological
//    storage), centred on the middle voxel, or on the SPM origin field of an Analyze header
//    when it is set and inside the image. The NIfTI-1 fallback, as nifti-reader-js 0.8 applies
//    it, is diag(pixdim) with no offset. We follow nibabel so that a file gets the same affine
//    in both libraries.
// In cases 2 and 3, a voxel size pixdim[1..3] of 0 is read as 1 mm with a warning, as nibabel
// 5.0's header check (_chk_pixdims) does. A NaN or infinite size is read as 1 mm too, which
// nibabel does not do, so that the affine is never singular or NaN.

import { UserError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { type Affine, affineFromRows, nearestRotation } from '../volume.js';
import type { NiftiHeader } from './header.js';

const log = createLogger('nifti');

/** The source of an affine: which header fields it was built from. */
export type AffineSource = 'sform' | 'qform' | 'pixdim';

/**
 * Returns the affine of a header and which fields it came from. `file` names the file in the
 * warning about voxel sizes and in the error for an invalid quaternion.
 */
export function affineFromHeader(
  header: NiftiHeader,
  file: string,
): { affine: Affine; source: AffineSource } {
  if (header.format !== 'analyze' && header.sformCode !== 0) {
    const s = header.srow;
    const rows = [s.slice(0, 4), s.slice(4, 8), s.slice(8, 12)];
    return { affine: affineFromRows(rows), source: 'sform' };
  }
  const zooms = voxelSizes(header.pixdim, file);
  if (header.format !== 'analyze' && header.qformCode !== 0) {
    const qfac = header.pixdim[0]! < 0 ? -1 : 1;
    const affine = qformAffine(header.quatern, header.qoffset, zooms, qfac, file);
    return { affine, source: 'qform' };
  }
  return { affine: fallbackAffine(header, zooms), source: 'pixdim' };
}

// Returns pixdim[1..3] with sizes that are 0 or not finite replaced by 1 mm, and warns naming
// the file when it replaces any.
function voxelSizes(pixdim: readonly number[], file: string): number[] {
  const stored = pixdim.slice(1, 4);
  const sizes = stored.map((size) => (size !== 0 && Number.isFinite(size) ? size : 1));
  if (sizes.some((size, axis) => size !== stored[axis])) {
    log.warn(
      `${file}: pixdim[1..3] is [${stored.join(', ')}], but voxel sizes must be non-zero and ` +
        `finite, so they were read as [${sizes.join(', ')}] mm. Fix the header's pixdim if ` +
        'the voxel size matters.',
    );
  }
  return sizes;
}

/**
 * Largest excess of b² + c² + d² over 1 that counts as rounding of a unit quaternion stored in
 * float32: three float32 epsilons, nibabel 5.0's Nifti1Header.quaternion_threshold.
 */
export const QUATERNION_ROUNDING = 3 * 2 ** -23;

/**
 * Builds the qform affine: R * diag(dx, dy, qfac * dz) plus the offset, where R is the
 * rotation of the unit quaternion (a, b, c, d). a is computed from b, c, d and clamped: when
 * b² + c² + d² reaches 1 through rounding, a is 0 and (b, c, d) is normalised, so the result
 * is never NaN. A larger excess (over QUATERNION_ROUNDING) or a non-finite value is not a unit
 * quaternion, so it throws a UserError naming `file`, as nibabel 5.0 raises an error. Voxel
 * sizes that are not positive count as 1, so the affine stays invertible (nibabel 5.0 raises
 * an error for a negative one instead).
 */
export function qformAffine(
  quatern: readonly number[],
  offset: readonly number[],
  zooms: readonly number[],
  qfac: number,
  file = 'NIfTI header',
): Affine {
  let [b, c, d] = [quatern[0]!, quatern[1]!, quatern[2]!];
  const squared = b * b + c * c + d * d;
  if (!(1 - squared >= -QUATERNION_ROUNDING)) {
    throw new UserError(
      `${file}: the qform quaternion (quatern_b, quatern_c, quatern_d) = (${b}, ${c}, ${d}) ` +
        `is invalid: b² + c² + d² = ${squared}, but a unit quaternion needs at most 1. The ` +
        'header is corrupt: write it again with a valid qform or an sform.',
    );
  }
  let a = 0;
  if (1 - squared < 1e-7) {
    const norm = Math.sqrt(squared);
    [b, c, d] = [b / norm, c / norm, d / norm];
  } else {
    a = Math.sqrt(1 - squared);
  }
  const rotation = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
  ];
  const scale = zooms.map((zoom) => (zoom > 0 ? zoom : 1));
  scale[2] = scale[2]! * (qfac < 0 ? -1 : 1);
  const rows = rotation.map((row, r) => [...row.map((value, k) => value * scale[k]!), offset[r]!]);
  return affineFromRows(rows);
}

// NOTE: SPM can store an Analyze image's affine in a MATLAB .mat file next to it, which nibabel
// reads in preference to the header. This reader ignores .mat files, so such an image gets the
// header's origin-based affine here and nibabel's affine may differ.
function fallbackAffine(header: NiftiHeader, voxelSizes: readonly number[]): Affine {
  const dims = header.shape.slice(0, 3);
  const zooms = [-voxelSizes[0]!, voxelSizes[1]!, voxelSizes[2]!];
  const origin = header.analyzeOrigin;
  const useOrigin =
    header.format === 'analyze' &&
    origin.some((value) => value !== 0) &&
    origin.every((value, axis) => value > -dims[axis]! && value < 2 * dims[axis]!);
  const centre = dims.map((size, axis) => (useOrigin ? origin[axis]! - 1 : (size - 1) / 2));
  const rows = [0, 1, 2].map((r) => {
    const row = [0, 0, 0, -centre[r]! * zooms[r]!];
    row[r] = zooms[r]!;
    return row;
  });
  return affineFromRows(rows);
}

/** The qform parameters that encode an affine (as far as a rotation can: shears are lost). */
export interface QformParameters {
  quatern: [number, number, number];
  offset: [number, number, number];
  zooms: [number, number, number];
  qfac: 1 | -1;
}

/**
 * Returns the qform parameters closest to an affine: the column lengths as voxel sizes, the
 * nearest rotation of the normalised columns (with the third column negated and qfac = -1
 * when the determinant is negative), and that rotation as a quaternion with a >= 0.
 */
export function qformFromAffine(affine: Affine): QformParameters {
  const zooms = [0, 1, 2].map((column) =>
    Math.hypot(affine[column]!, affine[4 + column]!, affine[8 + column]!),
  );
  const normalised = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const zoom = zooms[c]! > 0 ? zooms[c]! : 1;
      normalised[3 * r + c] = affine[4 * r + c]! / zoom;
    }
  }
  const rotation = nearestRotation(normalised);
  const qfac = determinant3x3(rotation) < 0 ? -1 : 1;
  if (qfac < 0) for (let r = 0; r < 3; r++) rotation[3 * r + 2] = -rotation[3 * r + 2]!;
  return {
    quatern: quaternionFromRotation(rotation),
    offset: [affine[3]!, affine[7]!, affine[11]!],
    zooms: zooms.map((zoom) => (zoom > 0 ? zoom : 1)) as [number, number, number],
    qfac,
  };
}

function determinant3x3(m: Float64Array): number {
  return (
    m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) -
    m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) +
    m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!)
  );
}

// Converts a proper rotation matrix (row-major) to the (b, c, d) of a unit quaternion with
// a >= 0. It divides by a when the trace is positive (then a >= 0.5), else by the component of
// the largest diagonal entry, so the divisor is never close to 0.
function quaternionFromRotation(m: Float64Array): [number, number, number] {
  const [r11, r12, r13, r21, r22, r23, r31, r32, r33] = Array.from(m);
  const trace = r11! + r22! + r33!;
  let [a, b, c, d] = [0, 0, 0, 0];
  if (trace > 0) {
    a = 0.5 * Math.sqrt(1 + trace);
    [b, c, d] = [(r32! - r23!) / (4 * a), (r13! - r31!) / (4 * a), (r21! - r12!) / (4 * a)];
  } else if (r11! >= r22! && r11! >= r33!) {
    b = 0.5 * Math.sqrt(1 + r11! - r22! - r33!);
    [a, c, d] = [(r32! - r23!) / (4 * b), (r12! + r21!) / (4 * b), (r13! + r31!) / (4 * b)];
  } else if (r22! >= r33!) {
    c = 0.5 * Math.sqrt(1 + r22! - r11! - r33!);
    [a, b, d] = [(r13! - r31!) / (4 * c), (r12! + r21!) / (4 * c), (r23! + r32!) / (4 * c)];
  } else {
    d = 0.5 * Math.sqrt(1 + r33! - r11! - r22!);
    [a, b, c] = [(r21! - r12!) / (4 * d), (r13! + r31!) / (4 * d), (r23! + r32!) / (4 * d)];
  }
  return a < 0 ? [-b, -c, -d] : [b, c, d];
}
