// The Volume type shared by the data pipeline: voxel values as float32, the grid's shape and
// the affine that places each voxel in world space.
//
// Conventions (the same as NIfTI and nibabel):
// - Voxel order: `shape` is [x, y, z, ...] in the file's own axis order, and x varies fastest
//   in `data`. Voxel (i, j, k, t) is at data[i + nx * (j + ny * (k + nz * t))]. Read as a
//   row-major array, `data` is therefore [frames, z, y, x], which is the [C, D, H, W] layout of
//   one tensor sample with no copy (see `tensorShape`).
// - Affine: a 4x4 matrix stored row-major in a Float64Array of 16 entries. It maps a voxel
//   index (i, j, k, 1) to world coordinates (x, y, z, 1) in millimetres. Index (0, 0, 0) is the
//   centre of the first voxel. World axes are RAS+: x towards the subject's Right, y Anterior,
//   z Superior.
// - Axis codes: one letter per voxel axis naming the world direction it increases towards,
//   so 'RAS' is the canonical order and 'LAS' is the radiological one.

import { UserError } from '../errors.js';

/** A 4x4 voxel-to-world matrix, row-major: entry (row r, column c) is at index 4 * r + c. */
export type Affine = Float64Array;

/** One NIfTI header extension: its code (ecode) and its payload without the 8-byte prefix. */
export interface HeaderExtension {
  code: number;
  data: Uint8Array;
}

/** Header fields a volume carries from its file (or sets for a new one), kept for writing. */
export interface VolumeHeader {
  /** Format of the file read, or 'none' for a volume built in memory. */
  format: 'nifti1' | 'nifti2' | 'analyze' | 'none';
  /** NIfTI datatype code of the stored voxels (16 = float32 for a volume built in memory). */
  datatype: number;
  /** scl_slope and scl_inter applied while reading: 1 and 0 when the file had no scaling. */
  sclSlope: number;
  sclInter: number;
  /** qform_code and sform_code: 0 unknown, 1 scanner, 2 aligned, 3 Talairach, 4 MNI. */
  qformCode: number;
  sformCode: number;
  /** pixdim[1..7]: voxel sizes, then the time step and the sizes of dimensions 5 to 7. */
  pixdim: number[];
  /** xyzt_units: spatial units in bits 0-2 (2 = mm), temporal units in bits 3-5 (8 = s). */
  xyztUnits: number;
  intentCode: number;
  intentName: string;
  intentParams: [number, number, number];
  description: string;
  auxFile: string;
  calMin: number;
  calMax: number;
  toffset: number;
  sliceCode: number;
  sliceStart: number;
  sliceEnd: number;
  sliceDuration: number;
  dimInfo: number;
  extensions: HeaderExtension[];
  /** Path or name the volume was read from, used in messages; '' for a new volume. */
  source: string;
  /**
   * Operations that made this volume from the one read from `source`, in order (for example
   * ['resampleToSpacing', 'cropOrPad']); absent or empty for a volume as read.
   */
  derivedBy?: readonly string[];
  /** Voxels that were NaN or infinite in the file, counted while reading. */
  nonFiniteCount: number;
}

/** Returns the header of a volume built in memory: float32, no scaling, unknown transforms. */
export function defaultHeader(): VolumeHeader {
  return {
    format: 'none',
    datatype: 16,
    sclSlope: 1,
    sclInter: 0,
    qformCode: 0,
    sformCode: 0,
    pixdim: [1, 1, 1, 1, 1, 1, 1],
    xyztUnits: 2 | 8,
    intentCode: 0,
    intentName: '',
    intentParams: [0, 0, 0],
    description: '',
    auxFile: '',
    calMin: 0,
    calMax: 0,
    toffset: 0,
    sliceCode: 0,
    sliceStart: 0,
    sliceEnd: 0,
    sliceDuration: 0,
    dimInfo: 0,
    extensions: [],
    source: '',
    derivedBy: [],
    nonFiniteCount: 0,
  };
}

/**
 * Returns the name of a volume for messages: its file, 'volume derived from FILE by OPS' once
 * transforms have made it, or 'in-memory volume' when it has no file.
 */
export function volumeName(volume: Volume): string {
  const { source, derivedBy = [] } = volume.header;
  const origin = source === '' ? 'an in-memory volume' : source;
  if (derivedBy.length > 0) return `volume derived from ${origin} by ${derivedBy.join(', then ')}`;
  return source === '' ? 'in-memory volume' : source;
}

/** Returns `header` for a volume that `operation` made from the volume of `header`. */
export function derivedHeader(header: VolumeHeader, operation: string): VolumeHeader {
  return { ...header, derivedBy: [...(header.derivedBy ?? []), operation] };
}

/** A volume of float32 voxels on a grid placed in world space by an affine. */
export class Volume {
  /** Voxel values, x fastest (see the conventions at the top of this file). */
  readonly data: Float32Array;
  /** [x, y, z, ...extra]: three spatial sizes then up to four more (time, components). */
  readonly shape: readonly number[];
  /** Voxel index to world millimetres, row-major 4x4. */
  readonly affine: Affine;
  header: VolumeHeader;

  constructor(data: Float32Array, shape: readonly number[], affine: Affine, header?: VolumeHeader) {
    checkShape(shape);
    const expected = shape.reduce((product, size) => product * size, 1);
    if (data.length !== expected) {
      throw new UserError(
        `Volume data has ${data.length} values but shape [${shape.join(', ')}] needs ${expected}.`,
      );
    }
    if (affine.length !== 16) {
      throw new UserError(`Volume affine has ${affine.length} entries; expected 16 (4x4).`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.affine = affine;
    this.header = header ?? defaultHeader();
  }

  /** Creates a zero-filled volume; the affine defaults to the identity (1 mm voxels). */
  static zeros(shape: readonly number[], affine: Affine = identityAffine()): Volume {
    checkShape(shape);
    const size = shape.reduce((product, extent) => product * extent, 1);
    return new Volume(new Float32Array(size), shape, affine);
  }

  /** Sizes of the three spatial axes, [nx, ny, nz]. */
  get spatialShape(): [number, number, number] {
    return [this.shape[0]!, this.shape[1]!, this.shape[2]!];
  }

  /** Voxels in one 3D frame (nx * ny * nz). */
  get frameSize(): number {
    return this.shape[0]! * this.shape[1]! * this.shape[2]!;
  }

  /** 3D frames stored one after another: the product of the sizes beyond z (1 for a 3D image). */
  get frameCount(): number {
    return this.shape.slice(3).reduce((product, size) => product * size, 1);
  }

  /** The data read as one channels-first tensor sample: [C, D, H, W] = [frames, nz, ny, nx]. */
  get tensorShape(): [number, number, number, number] {
    return [this.frameCount, this.shape[2]!, this.shape[1]!, this.shape[0]!];
  }

  /** Voxel sizes in mm along the voxel axes: the lengths of the affine's first three columns. */
  get spacing(): [number, number, number] {
    return [0, 1, 2].map((column) => columnNorm(this.affine, column)) as [number, number, number];
  }

  /** Axis codes of the voxel axes, for example 'RAS' or 'LPI' (see `axisCodes`). */
  get orientation(): string {
    return axisCodes(this.affine);
  }

  /** Returns the flat index of voxel (i, j, k) in frame `frame`. */
  index(i: number, j: number, k: number, frame = 0): number {
    const [nx, ny, nz] = this.spatialShape;
    return i + nx * (j + ny * (k + nz * frame));
  }

  /** Returns the value of voxel (i, j, k) in frame `frame`. */
  get(i: number, j: number, k: number, frame = 0): number {
    return this.data[this.index(i, j, k, frame)]!;
  }

  /**
   * Returns frame `index` (a time point or channel) as a 3D volume that shares this data. In a
   * 5D volume [x, y, z, t, c], time point t of component c is frame t + nt * c.
   */
  frame(index: number): Volume {
    if (!Number.isInteger(index) || index < 0 || index >= this.frameCount) {
      throw new UserError(
        `Frame ${index} is out of range: the volume has ${this.frameCount} frame(s) ` +
          `(shape [${this.shape.join(', ')}]).`,
      );
    }
    const size = this.frameSize;
    const data = this.data.subarray(index * size, (index + 1) * size);
    return new Volume(data, this.spatialShape, this.affine, { ...this.header });
  }

  /** Returns a volume on the same grid with other values (a prediction, a mask). */
  withData(data: Float32Array, shape: readonly number[] = this.shape): Volume {
    const header: VolumeHeader = { ...this.header, datatype: 16, sclSlope: 1, sclInter: 0 };
    return new Volume(data, shape, new Float64Array(this.affine), header);
  }

  /** Returns the world coordinates (mm) of a voxel position, fractional positions allowed. */
  worldFromVoxel(i: number, j: number, k: number): [number, number, number] {
    return applyAffine(this.affine, [i, j, k]);
  }

  /** Returns the fractional voxel position of a world point (mm). */
  voxelFromWorld(x: number, y: number, z: number): [number, number, number] {
    return applyAffine(invertAffine(this.affine), [x, y, z]);
  }
}

function checkShape(shape: readonly number[]): void {
  if (shape.length < 3 || shape.length > 7) {
    throw new UserError(
      `Volume shape [${shape.join(', ')}] has ${shape.length} axes; expected 3 to 7 ` +
        '(x, y, z, then time or components).',
    );
  }
  for (const [axis, size] of shape.entries()) {
    if (!Number.isInteger(size) || size < 1) {
      throw new UserError(
        `Volume shape [${shape.join(', ')}] has size ${size} on axis ${axis}; ` +
          'every size must be a positive integer.',
      );
    }
  }
}

// ---- Affine helpers ----

export function identityAffine(): Affine {
  return new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
}

/** Builds an affine from four rows of four numbers. */
export function affineFromRows(rows: readonly (readonly number[])[]): Affine {
  const affine = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) affine[4 * r + c] = rows[r]?.[c] ?? (r === c ? 1 : 0);
  }
  return affine;
}

/** Returns the affine as four rows of four numbers (for printing and JSON). */
export function affineToRows(affine: Affine): number[][] {
  return [0, 1, 2, 3].map((r) => Array.from(affine.subarray(4 * r, 4 * r + 4)));
}

/** Applies the affine to a 3D point: returns A * (p, 1) without the homogeneous coordinate. */
export function applyAffine(affine: Affine, point: readonly number[]): [number, number, number] {
  const [a, b, c] = [point[0] ?? 0, point[1] ?? 0, point[2] ?? 0];
  const out: [number, number, number] = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    out[r] = affine[4 * r]! * a + affine[4 * r + 1]! * b + affine[4 * r + 2]! * c;
    out[r] += affine[4 * r + 3]!;
  }
  return out;
}

/** Returns the product a * b of two 4x4 row-major matrices. */
export function multiplyAffines(a: Affine, b: Affine): Affine {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += a[4 * r + k]! * b[4 * k + c]!;
      out[4 * r + c] = sum;
    }
  }
  return out;
}

/** Inverts an affine (its last row must be 0 0 0 1); throws when the 3x3 part is singular. */
export function invertAffine(affine: Affine): Affine {
  const m = (r: number, c: number) => affine[4 * r + c]!;
  const cofactor = (r: number, c: number) => {
    const rows = [0, 1, 2].filter((x) => x !== r);
    const cols = [0, 1, 2].filter((x) => x !== c);
    const minor =
      m(rows[0]!, cols[0]!) * m(rows[1]!, cols[1]!) - m(rows[0]!, cols[1]!) * m(rows[1]!, cols[0]!);
    return (r + c) % 2 === 0 ? minor : -minor;
  };
  const determinant =
    m(0, 0) * cofactor(0, 0) + m(0, 1) * cofactor(0, 1) + m(0, 2) * cofactor(0, 2);
  if (!Number.isFinite(determinant) || Math.abs(determinant) < 1e-12) {
    throw new UserError(
      `The affine's 3x3 part is singular (determinant ${determinant}), so world coordinates ` +
        'cannot be mapped back to voxels; check the file header sform, qform and pixdim.',
    );
  }
  const inverse = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) inverse[4 * r + c] = cofactor(c, r) / determinant;
  }
  for (let r = 0; r < 3; r++) {
    let shift = 0;
    for (let c = 0; c < 3; c++) shift += inverse[4 * r + c]! * m(c, 3);
    inverse[4 * r + 3] = -shift;
  }
  inverse[15] = 1;
  return inverse;
}

function columnNorm(affine: Affine, column: number): number {
  const [a, b, c] = [affine[column]!, affine[4 + column]!, affine[8 + column]!];
  return Math.sqrt(a * a + b * b + c * c);
}

// ---- Orientation ----

/** The world axis (0 = x/R, 1 = y/A, 2 = z/S) that a voxel axis follows, and its direction. */
export interface AxisOrientation {
  worldAxis: number;
  /** +1 when the voxel index increases towards R, A or S; -1 towards L, P or I. */
  sign: 1 | -1;
}

const POSITIVE_CODES = ['R', 'A', 'S'];
const NEGATIVE_CODES = ['L', 'P', 'I'];

/**
 * Returns, for each of the three voxel axes, the world axis closest to it and the direction,
 * or null for an axis whose affine column is zero. Follows nibabel's io_orientation: the
 * normalised 3x3 part is replaced by its nearest orthogonal matrix, then each voxel axis in
 * order takes the world axis with the largest absolute component among those still free.
 */
export function ioOrientation(affine: Affine): (AxisOrientation | null)[] {
  const rotation = nearestRotation(normalisedColumns(affine));
  const used = [false, false, false];
  const result: (AxisOrientation | null)[] = [];
  for (let column = 0; column < 3; column++) {
    let best = -1;
    let bestValue = 0;
    for (let row = 0; row < 3; row++) {
      const value = Math.abs(rotation[3 * row + column]!);
      if (!used[row] && value > bestValue + 1e-12) {
        best = row;
        bestValue = value;
      }
    }
    if (best < 0) {
      result.push(null);
      continue;
    }
    used[best] = true;
    result.push({ worldAxis: best, sign: rotation[3 * best + column]! < 0 ? -1 : 1 });
  }
  return result;
}

/** Returns the axis codes of an affine, for example 'RAS'; '?' marks a degenerate axis. */
export function axisCodes(affine: Affine): string {
  return ioOrientation(affine)
    .map((axis) => {
      if (axis === null) return '?';
      const codes = axis.sign > 0 ? POSITIVE_CODES : NEGATIVE_CODES;
      return codes[axis.worldAxis]!;
    })
    .join('');
}

/** Parses axis codes such as 'LPI' into orientations; throws on an invalid string. */
export function parseAxisCodes(codes: string): AxisOrientation[] {
  const upper = codes.toUpperCase();
  const result: AxisOrientation[] = [];
  for (const letter of upper) {
    const positive = POSITIVE_CODES.indexOf(letter);
    const negative = NEGATIVE_CODES.indexOf(letter);
    const worldAxis = positive >= 0 ? positive : negative;
    if (worldAxis < 0 || result.some((axis) => axis.worldAxis === worldAxis)) {
      throw new UserError(
        `Axis codes '${codes}' are invalid: expected three letters, one from each of ` +
          'R/L, A/P and S/I (for example RAS or LPI).',
      );
    }
    result.push({ worldAxis, sign: positive >= 0 ? 1 : -1 });
  }
  if (result.length !== 3) {
    throw new UserError(`Axis codes '${codes}' have ${result.length} letters; expected 3.`);
  }
  return result;
}

/** Returns the affine's 3x3 part with each column scaled to unit length (zero columns kept). */
function normalisedColumns(affine: Affine): Float64Array {
  const out = new Float64Array(9);
  for (let column = 0; column < 3; column++) {
    const norm = columnNorm(affine, column);
    for (let row = 0; row < 3; row++) {
      out[3 * row + column] = norm === 0 ? 0 : affine[4 * row + column]! / norm;
    }
  }
  return out;
}

/**
 * Returns the orthogonal factor of the polar decomposition of a row-major 3x3 matrix, by the
 * Newton iteration Q <- (Q + Q^-T) / 2. A singular matrix is returned unchanged, because its
 * nearest orthogonal matrix is not unique.
 */
export function nearestRotation(matrix: Float64Array): Float64Array {
  let q = matrix;
  for (let iteration = 0; iteration < 50; iteration++) {
    const inverseTransposed = invert3x3Transposed(q);
    if (inverseTransposed === null) return matrix;
    const next = q.map((value, index) => 0.5 * (value + inverseTransposed[index]!));
    const change = next.reduce((sum, value, index) => sum + Math.abs(value - q[index]!), 0);
    q = next;
    if (change < 1e-14) break;
  }
  return q;
}

function invert3x3Transposed(m: Float64Array): Float64Array | null {
  const at = (r: number, c: number) => m[3 * r + c]!;
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const [r1, r2] = [(r + 1) % 3, (r + 2) % 3];
      const [c1, c2] = [(c + 1) % 3, (c + 2) % 3];
      out[3 * r + c] = at(r1, c1) * at(r2, c2) - at(r1, c2) * at(r2, c1);
    }
  }
  const determinant = at(0, 0) * out[0]! + at(0, 1) * out[1]! + at(0, 2) * out[2]!;
  if (Math.abs(determinant) < 1e-12) return null;
  // out contains the cofactor matrix C, and inverse(M)^T = C / det(M).
  return out.map((value) => value / determinant);
}
