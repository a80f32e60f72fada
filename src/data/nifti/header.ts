// Parsing of NIfTI-1, NIfTI-2 and Analyze 7.5 headers. nifti-reader-js 0.8 reads the fields,
// and this module adds what it leaves out or gets wrong. That is the format and magic checks,
// the image shape from dim[0] and all of dim[1..7] (the package ignores dims 6 and 7), the
// srow rows whatever the transform codes, the SPM origin and scaling of Analyze headers, and
// the extensions of .hdr/.img pairs.

import { NIFTI1, NIFTI2 } from 'nifti-reader-js';

import { UserError } from '../../errors.js';
import type { HeaderExtension } from '../volume.js';
import { type Datatype, readableDatatype, type Scaling } from './datatypes.js';

export const NIFTI1_HEADER_SIZE = 348;
export const NIFTI2_HEADER_SIZE = 540;

/** A parsed header with the fields the decoder and the affine need, in float64. */
export interface NiftiHeader {
  format: 'nifti1' | 'nifti2' | 'analyze';
  littleEndian: boolean;
  headerSize: number;
  /** True when the image is in a separate .img file (magic 'ni1' or 'ni2', or Analyze). */
  pair: boolean;
  /** dim[0..7] as stored. */
  dims: number[];
  /** dim[1..dim[0]], padded with 1 to at least three axes. */
  shape: number[];
  voxelCount: number;
  datatype: Datatype;
  voxOffset: number;
  /** scl_slope and scl_inter as stored. */
  sclSlope: number;
  sclInter: number;
  /** Scaling to apply: slope 0 or not finite means none (slope 1, intercept 0). */
  scaling: Scaling;
  /** pixdim[0..7] as stored; pixdim[0] carries qfac. */
  pixdim: number[];
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  /** srow_x, srow_y, srow_z: 12 numbers, read whatever sform_code is. */
  srow: number[];
  /** Analyze only: the SPM origin field (1-based voxel of the world origin), else [0, 0, 0]. */
  analyzeOrigin: [number, number, number];
  /** The nifti-reader-js header object, for the metadata fields. */
  fields: NIFTI1 | NIFTI2;
}

/** Reads sizeof_hdr from the first 4 bytes; returns the header size and endianness. */
export function detectHeaderSize(
  first: Uint8Array,
  source: string,
): { headerSize: number; littleEndian: boolean } {
  if (first.length < 4) {
    throw new UserError(
      `${source}: the file has ${first.length} byte(s), too few for a NIfTI header; ` +
        'it is empty or truncated.',
    );
  }
  const view = new DataView(first.buffer, first.byteOffset, 4);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === NIFTI1_HEADER_SIZE || size === NIFTI2_HEADER_SIZE) {
      return { headerSize: size, littleEndian };
    }
  }
  const bytes = Array.from(first.subarray(0, 4), (byte) => byte.toString(16).padStart(2, '0'));
  throw new UserError(
    `${source} is not a NIfTI or Analyze file: its first 4 bytes (${bytes.join(' ')}) ` +
      `are not a header size of ${NIFTI1_HEADER_SIZE} or ${NIFTI2_HEADER_SIZE} in either ` +
      'byte order.',
  );
}

/**
 * Parses a header (its first `headerSize` bytes). `pairExpected` is true when the caller has a
 * separate image file, so a single-file magic with a pair, or the reverse, is rejected.
 */
export function parseHeader(bytes: Uint8Array, source: string, pairExpected: boolean): NiftiHeader {
  const { headerSize, littleEndian } = detectHeaderSize(bytes, source);
  if (bytes.length < headerSize) {
    throw new UserError(
      `${source}: the header is truncated: ${bytes.length} bytes where ${headerSize} are needed.`,
    );
  }
  const buffer = new Uint8Array(bytes.subarray(0, headerSize)).buffer;
  const view = new DataView(buffer);
  const format = detectFormat(view, headerSize, source);
  const pair = format === 'analyze' || magicOf(view, headerSize)[1] === 'i';
  checkPairing(format, pair, pairExpected, source);

  const fields = format === 'nifti2' ? new NIFTI2() : new NIFTI1();
  try {
    fields.readHeader(buffer);
  } catch (error) {
    throw new UserError(`${source}: the header could not be parsed: ${(error as Error).message}`);
  }
  const dims = fields.dims.map(Number);
  const shape = shapeFromDims(dims, source);
  const datatype = readableDatatype(fields.datatypeCode, source);
  return {
    format,
    littleEndian,
    headerSize,
    pair,
    dims,
    shape,
    voxelCount: shape.reduce((product, size) => product * size, 1),
    datatype,
    voxOffset: Math.floor(Number(fields.vox_offset)),
    sclSlope: fields.scl_slope,
    sclInter: fields.scl_inter,
    scaling: scalingOf(view, format, fields, source),
    pixdim: fields.pixDims.map(Number),
    qformCode: fields.qform_code,
    sformCode: fields.sform_code,
    quatern: [fields.quatern_b, fields.quatern_c, fields.quatern_d],
    qoffset: [fields.qoffset_x, fields.qoffset_y, fields.qoffset_z],
    srow: readSrow(view, format, littleEndian),
    analyzeOrigin: format === 'analyze' ? readAnalyzeOrigin(view, littleEndian) : [0, 0, 0],
    fields,
  };
}

function magicOf(view: DataView, headerSize: number): string {
  const offset = headerSize === NIFTI1_HEADER_SIZE ? 344 : 4;
  let magic = '';
  for (let i = 0; i < 3; i++) magic += String.fromCharCode(view.getUint8(offset + i));
  return magic;
}

function detectFormat(view: DataView, headerSize: number, source: string): NiftiHeader['format'] {
  const magic = magicOf(view, headerSize);
  if (headerSize === NIFTI1_HEADER_SIZE) {
    if (magic === 'n+1' || magic === 'ni1') return 'nifti1';
    return 'analyze';
  }
  if (magic === 'n+2' || magic === 'ni2') return 'nifti2';
  throw new UserError(
    `${source}: the header size is ${NIFTI2_HEADER_SIZE} (NIfTI-2) but the magic string is ` +
      `'${magic}', not 'n+2' or 'ni2'; the file is not NIfTI-2 or its header is corrupt.`,
  );
}

function checkPairing(
  format: NiftiHeader['format'],
  pair: boolean,
  pairExpected: boolean,
  source: string,
): void {
  if (pair === pairExpected) return;
  if (pair) {
    const kind = format === 'analyze' ? 'an Analyze 7.5 header (no NIfTI magic)' : 'a .hdr header';
    throw new UserError(
      `${source} is ${kind}, whose voxels are in a separate .img file; ` +
        'read it by its .hdr name with the .img file next to it.',
    );
  }
  throw new UserError(
    `${source} is a single-file NIfTI (magic 'n+'), so it contains its own voxels; ` +
      'read it as a .nii file without a separate image file.',
  );
}

/** Returns dim[1..dim[0]] padded with 1 to three axes; throws on a corrupt dim field. */
export function shapeFromDims(dims: readonly number[], source: string): number[] {
  const rank = dims[0]!;
  if (!Number.isInteger(rank) || rank < 1 || rank > 7) {
    throw new UserError(
      `${source}: dim[0] is ${rank}; expected 1 to 7 axes. The header is corrupt or the file ` +
        'is not NIfTI.',
    );
  }
  const shape = dims.slice(1, rank + 1);
  for (const [index, size] of shape.entries()) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new UserError(
        `${source}: dim[${index + 1}] is ${size} but dim[0] = ${rank} makes it an image axis, ` +
          'which needs a positive size; the header is corrupt.',
      );
    }
  }
  while (shape.length < 3) shape.push(1);
  return shape;
}

function readSrow(view: DataView, format: NiftiHeader['format'], littleEndian: boolean): number[] {
  const srow: number[] = [];
  for (let index = 0; index < 12; index++) {
    if (format === 'nifti2') srow.push(view.getFloat64(400 + 8 * index, littleEndian));
    else srow.push(view.getFloat32(280 + 4 * index, littleEndian));
  }
  return srow;
}

// Analyze 7.5 keeps the SPM origin (three int16 at byte 253, unaligned) in its originator field.
function readAnalyzeOrigin(view: DataView, littleEndian: boolean): [number, number, number] {
  return [0, 1, 2].map((axis) => view.getInt16(253 + 2 * axis, littleEndian)) as [
    number,
    number,
    number,
  ];
}

// NIfTI: a slope of 0 or a non-finite slope means no scaling, and a valid slope with a
// non-finite intercept is an error. Analyze follows SPM2 as nibabel 5.0 reads it: scl_slope
// and scl_inter (a non-finite intercept reads as 0), else the ratio of the calibrated range
// (cal_min, cal_max) to the stored range (glmin, glmax), else no scaling.
function scalingOf(
  view: DataView,
  format: NiftiHeader['format'],
  fields: NIFTI1 | NIFTI2,
  source: string,
): Scaling {
  const slope = Number(fields.scl_slope);
  const inter = Number(fields.scl_inter);
  if (Number.isFinite(slope) && slope !== 0) {
    if (Number.isFinite(inter)) return { slope, inter };
    if (format === 'analyze') return { slope, inter: 0 };
    throw new UserError(
      `${source}: scl_slope is ${slope} but scl_inter is ${inter}; a scaled image needs a ` +
        'finite intercept. Fix scl_inter in the header (0 when there is no offset).',
    );
  }
  if (format !== 'analyze') return { slope: 1, inter: 0 };
  const littleEndian = fields.littleEndian;
  const glmax = view.getInt32(140, littleEndian);
  const glmin = view.getInt32(144, littleEndian);
  const calRange = Number(fields.cal_max) - Number(fields.cal_min);
  if (glmax - glmin !== 0 && calRange !== 0) {
    const derived = calRange / (glmax - glmin);
    return { slope: derived, inter: Number(fields.cal_min) - derived * glmin };
  }
  return { slope: 1, inter: 0 };
}

/**
 * Parses the extensions stored in `bytes`, which start with the 4-byte extender. Each
 * extension is esize (int32, a multiple of 16 including its 8-byte prefix), ecode and data.
 * Returns the extensions and, when the list ends early, why.
 */
export function parseExtensions(
  bytes: Uint8Array,
  littleEndian: boolean,
): { extensions: HeaderExtension[]; problem: string | null } {
  const extensions: HeaderExtension[] = [];
  if (bytes.length < 4 || bytes[0] === 0) return { extensions, problem: null };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 4;
  while (offset + 8 <= bytes.length) {
    const size = view.getInt32(offset, littleEndian);
    const code = view.getInt32(offset + 4, littleEndian);
    if (size === 0) break;
    if (size < 16 || size % 16 !== 0 || offset + size > bytes.length) {
      const problem =
        `the extension at byte ${offset} after the header has esize ${size}, ` +
        `which is not a multiple of 16 that fits in the ${bytes.length - offset} bytes left`;
      return { extensions, problem };
    }
    extensions.push({ code, data: new Uint8Array(bytes.subarray(offset + 8, offset + size)) });
    offset += size;
  }
  return { extensions, problem: null };
}
