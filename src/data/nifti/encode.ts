// The NIfTI-1 encoder: a single-file .nii (little-endian) with the sform and the qform both set
// from the volume's affine, the extensions kept, and voxels stored as float32 or a requested
// real datatype. Shared by Node (node.ts writes it to disk) and browsers.

import { UserError } from '../../errors.js';
import { type Volume, type VolumeHeader, volumeName } from '../volume.js';
import { qformFromAffine } from './affine.js';
import { type Datatype, type WritableDatatype, writableDatatype } from './datatypes.js';
import { NIFTI1_HEADER_SIZE } from './header.js';

export interface WriteOptions {
  /** Stored datatype, default 'float32'. Integer types need integer values within range. */
  datatype?: WritableDatatype;
  /** descrip field (at most 79 ASCII characters), default the volume's own description. */
  description?: string;
}

// NIfTI transform code used when the volume has none: 1, scanner-based anatomical coordinates.
const XFORM_SCANNER_ANAT = 1;
// Voxels per yielded chunk (1 Mi), so a chunk stays small next to the volume but costs little.
const CHUNK_VOXELS = 1 << 20;

const INTEGER_RANGES: Record<string, [number, number]> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Encodes a volume as one .nii byte array (header, extensions, voxels). */
export function encodeNifti(volume: Volume, options: WriteOptions = {}): Uint8Array {
  const chunks = Array.from(encodeNiftiChunks(volume, options));
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Yields a .nii file in chunks: the header and extensions first, then the voxels. The values
 * are checked against the datatype before the first chunk, so a rejected volume yields nothing.
 */
export function* encodeNiftiChunks(
  volume: Volume,
  options: WriteOptions = {},
): Generator<Uint8Array> {
  const datatype = writableDatatype(options.datatype ?? 'float32');
  checkShape(volume);
  checkValues(volume, datatype);
  const extensions = encodeExtensions(volume);
  const voxOffset = NIFTI1_HEADER_SIZE + extensions.length;
  yield encodeHeader(volume, datatype, voxOffset, options.description);
  yield extensions;
  for (let start = 0; start < volume.data.length; start += CHUNK_VOXELS) {
    const end = Math.min(start + CHUNK_VOXELS, volume.data.length);
    yield encodeVoxels(volume.data.subarray(start, end), datatype);
  }
}

// NIfTI-1 stores each dim as int16.
function checkShape(volume: Volume): void {
  const axis = volume.shape.findIndex((size) => size > 32767);
  if (axis < 0) return;
  throw new UserError(
    `Cannot write ${volumeName(volume)} as NIfTI-1: axis ${axis} has ` +
      `${volume.shape[axis]} voxels, above the format's limit of 32767 per axis. Crop or ` +
      'split the volume first.',
  );
}

function checkValues(volume: Volume, datatype: Datatype): void {
  const range = INTEGER_RANGES[datatype.name];
  if (range === undefined) return;
  const data = volume.data;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    if (!Number.isInteger(value) || value < range[0] || value > range[1]) {
      throw new UserError(
        `Cannot write ${volumeName(volume)} as ${datatype.name}: voxel ${i} ` +
          `is ${value}, which is not an integer in [${range[0]}, ${range[1]}]. Round or clip ` +
          "the values first, or write datatype 'float32'.",
      );
    }
  }
}

// The 4-byte extender, then each extension padded to a multiple of 16 bytes.
function encodeExtensions(volume: Volume): Uint8Array {
  const list = volume.header.extensions;
  const sizes = list.map((extension) => Math.ceil((extension.data.length + 8) / 16) * 16);
  const out = new Uint8Array(4 + sizes.reduce((sum, size) => sum + size, 0));
  if (list.length === 0) return out;
  out[0] = 1;
  const view = new DataView(out.buffer);
  let offset = 4;
  for (const [index, extension] of list.entries()) {
    view.setInt32(offset, sizes[index]!, true);
    view.setInt32(offset + 4, extension.code, true);
    out.set(extension.data, offset + 8);
    offset += sizes[index]!;
  }
  return out;
}

function encodeHeader(
  volume: Volume,
  datatype: Datatype,
  voxOffset: number,
  description: string | undefined,
): Uint8Array {
  const bytes = new Uint8Array(NIFTI1_HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  const header = volume.header;
  view.setInt32(0, NIFTI1_HEADER_SIZE, true);
  bytes[38] = 'r'.charCodeAt(0);
  bytes[39] = header.dimInfo & 0xff;

  view.setInt16(40, volume.shape.length, true);
  for (let axis = 0; axis < 7; axis++) view.setInt16(42 + 2 * axis, volume.shape[axis] ?? 1, true);
  view.setInt16(70, datatype.code, true);
  view.setInt16(72, datatype.bytes * 8, true);
  view.setFloat32(108, voxOffset, true);
  view.setFloat32(112, 1, true);
  view.setFloat32(116, 0, true);

  encodeMetadata(view, header);
  writeAscii(bytes, 148, 80, description ?? header.description);
  writeAscii(bytes, 228, 24, header.auxFile);
  writeAscii(bytes, 328, 16, header.intentName);
  encodeTransforms(view, volume);
  writeAscii(bytes, 344, 4, 'n+1');
  return bytes;
}

function encodeMetadata(view: DataView, header: VolumeHeader): void {
  header.intentParams.forEach((value, index) => view.setFloat32(56 + 4 * index, value, true));
  view.setInt16(68, header.intentCode, true);
  view.setInt16(74, header.sliceStart, true);
  view.setInt16(120, header.sliceEnd, true);
  view.setUint8(122, header.sliceCode & 0xff);
  view.setUint8(123, header.xyztUnits & 0xff);
  view.setFloat32(124, header.calMax, true);
  view.setFloat32(128, header.calMin, true);
  view.setFloat32(132, header.sliceDuration, true);
  view.setFloat32(136, header.toffset, true);
}

// pixdim, the qform and the sform, all from the affine. The sform is the affine itself, and the
// qform is its nearest rotation with the column lengths as voxel sizes.
function encodeTransforms(view: DataView, volume: Volume): void {
  const header = volume.header;
  const qform = qformFromAffine(volume.affine);
  const pixdim = [qform.qfac, ...qform.zooms, ...header.pixdim.slice(3, 7)];
  pixdim.forEach((value, index) => view.setFloat32(76 + 4 * index, value, true));

  const code = header.sformCode || header.qformCode || XFORM_SCANNER_ANAT;
  view.setInt16(252, header.qformCode || code, true);
  view.setInt16(254, code, true);
  qform.quatern.forEach((value, index) => view.setFloat32(256 + 4 * index, value, true));
  qform.offset.forEach((value, index) => view.setFloat32(268 + 4 * index, value, true));
  for (let index = 0; index < 12; index++) {
    view.setFloat32(280 + 4 * index, volume.affine[index]!, true);
  }
}

// Writes up to `length - 1` characters, so the field stays NUL-terminated; non-ASCII becomes '?'.
function writeAscii(bytes: Uint8Array, offset: number, length: number, text: string): void {
  const limit = Math.min(text.length, length - 1);
  for (let i = 0; i < limit; i++) {
    const code = text.charCodeAt(i);
    bytes[offset + i] = code < 128 ? code : '?'.charCodeAt(0);
  }
}

function encodeVoxels(values: Float32Array, datatype: Datatype): Uint8Array {
  const bytes = new Uint8Array(values.length * datatype.bytes);
  const view = new DataView(bytes.buffer);
  const n = values.length;
  switch (datatype.name) {
    case 'uint8':
      bytes.set(values);
      break;
    case 'int8':
      for (let i = 0; i < n; i++) view.setInt8(i, values[i]!);
      break;
    case 'int16':
      for (let i = 0; i < n; i++) view.setInt16(2 * i, values[i]!, true);
      break;
    case 'uint16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, values[i]!, true);
      break;
    case 'int32':
      for (let i = 0; i < n; i++) view.setInt32(4 * i, values[i]!, true);
      break;
    case 'uint32':
      for (let i = 0; i < n; i++) view.setUint32(4 * i, values[i]!, true);
      break;
    case 'int64':
    case 'uint64':
      for (let i = 0; i < n; i++) view.setBigInt64(8 * i, BigInt(values[i]!), true);
      break;
    case 'float32':
      for (let i = 0; i < n; i++) view.setFloat32(4 * i, values[i]!, true);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) view.setFloat64(8 * i, values[i]!, true);
      break;
  }
  return bytes;
}
