// NIfTI datatype codes and the conversion of stored voxels to float32.

import { UserError } from '../../errors.js';

/** A NIfTI datatype: its code in the header, its name and the bytes one voxel occupies. */
export interface Datatype {
  code: number;
  name: string;
  bytes: number;
}

const DATATYPE_LIST: Datatype[] = [
  { code: 1, name: 'binary', bytes: 0 },
  { code: 2, name: 'uint8', bytes: 1 },
  { code: 4, name: 'int16', bytes: 2 },
  { code: 8, name: 'int32', bytes: 4 },
  { code: 16, name: 'float32', bytes: 4 },
  { code: 32, name: 'complex64', bytes: 8 },
  { code: 64, name: 'float64', bytes: 8 },
  { code: 128, name: 'rgb24', bytes: 3 },
  { code: 256, name: 'int8', bytes: 1 },
  { code: 512, name: 'uint16', bytes: 2 },
  { code: 768, name: 'uint32', bytes: 4 },
  { code: 1024, name: 'int64', bytes: 8 },
  { code: 1280, name: 'uint64', bytes: 8 },
  { code: 1536, name: 'float128', bytes: 16 },
  { code: 1792, name: 'complex128', bytes: 16 },
  { code: 2048, name: 'complex256', bytes: 32 },
  { code: 2304, name: 'rgba32', bytes: 4 },
];

export const DATATYPES: ReadonlyMap<number, Datatype> = new Map(
  DATATYPE_LIST.map((datatype) => [datatype.code, datatype]),
);

/** Datatypes the writer can store: the real scalar types. */
export type WritableDatatype =
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

const WRITABLE: readonly string[] = [
  'uint8',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
];

/** Returns the datatype a reader can convert to float32; throws a UserError for the others. */
export function readableDatatype(code: number, source: string): Datatype {
  const datatype = DATATYPES.get(code);
  if (datatype === undefined) {
    throw new UserError(
      `${source}: datatype code ${code} is not a NIfTI datatype; the header is corrupt or ` +
        'the file is not NIfTI.',
    );
  }
  if (datatype.name.startsWith('complex')) {
    throw new UserError(
      `${source}: complex voxels (${datatype.name}, datatype ${code}) are not supported; ` +
        'convert the image to real values (magnitude or phase) before reading it.',
    );
  }
  if (datatype.name === 'binary' || datatype.name === 'float128') {
    throw new UserError(
      `${source}: datatype ${datatype.name} (code ${code}) is not supported; ` +
        'convert the image to an integer or float32 datatype.',
    );
  }
  return datatype;
}

/** Returns the datatype named by a write option; throws a UserError naming the valid names. */
export function writableDatatype(name: string): Datatype {
  if (!WRITABLE.includes(name)) {
    throw new UserError(`Cannot write datatype '${name}': expected one of ${WRITABLE.join(', ')}.`);
  }
  return DATATYPE_LIST.find((datatype) => datatype.name === name)!;
}

// ITU-R BT.601 luma weights, used to turn RGB voxels into one intensity.
const LUMA_RED = 0.299;
const LUMA_GREEN = 0.587;
const LUMA_BLUE = 0.114;

/** Linear scaling applied to each stored value: value * slope + inter, in float64. */
export interface Scaling {
  slope: number;
  inter: number;
}

/**
 * Converts `count` voxels stored at `view[byteOffset...]` to float32 in `out[outOffset...]`.
 * The scaling applies to every type except RGB, whose bytes are colour channels.
 */
export function decodeVoxels(
  datatype: Datatype,
  view: DataView,
  byteOffset: number,
  count: number,
  littleEndian: boolean,
  scaling: Scaling,
  out: Float32Array,
  outOffset: number,
): void {
  const { slope, inter } = scaling;
  const le = littleEndian;
  let p = byteOffset;
  const end = outOffset + count;
  switch (datatype.code) {
    case 2:
      for (let o = outOffset; o < end; o++, p++) out[o] = view.getUint8(p) * slope + inter;
      return;
    case 256:
      for (let o = outOffset; o < end; o++, p++) out[o] = view.getInt8(p) * slope + inter;
      return;
    case 4:
      for (let o = outOffset; o < end; o++, p += 2) out[o] = view.getInt16(p, le) * slope + inter;
      return;
    case 512:
      for (let o = outOffset; o < end; o++, p += 2) out[o] = view.getUint16(p, le) * slope + inter;
      return;
    case 8:
      for (let o = outOffset; o < end; o++, p += 4) out[o] = view.getInt32(p, le) * slope + inter;
      return;
    case 768:
      for (let o = outOffset; o < end; o++, p += 4) out[o] = view.getUint32(p, le) * slope + inter;
      return;
    case 16:
      for (let o = outOffset; o < end; o++, p += 4) out[o] = view.getFloat32(p, le) * slope + inter;
      return;
    case 64:
      for (let o = outOffset; o < end; o++, p += 8) out[o] = view.getFloat64(p, le) * slope + inter;
      return;
    case 1024:
    case 1280:
      decode64BitIntegers(datatype.code === 1024, view, p, outOffset, end, le, scaling, out);
      return;
    case 128:
    case 2304:
      decodeRgb(datatype.bytes, view, p, outOffset, end, out);
      return;
    default:
      throw new Error(`decodeVoxels has no conversion for datatype ${datatype.code}`);
  }
}

// A 64-bit integer is split into a high and a low 32-bit word and combined in float64, which is
// exact up to 2^53 and then rounds, as any conversion to float32 must.
function decode64BitIntegers(
  signed: boolean,
  view: DataView,
  byteOffset: number,
  start: number,
  end: number,
  le: boolean,
  scaling: Scaling,
  out: Float32Array,
): void {
  const highOffset = le ? 4 : 0;
  const lowOffset = le ? 0 : 4;
  let p = byteOffset;
  for (let o = start; o < end; o++, p += 8) {
    const high = signed ? view.getInt32(p + highOffset, le) : view.getUint32(p + highOffset, le);
    const value = high * 4294967296 + view.getUint32(p + lowOffset, le);
    out[o] = value * scaling.slope + scaling.inter;
  }
}

function decodeRgb(
  bytesPerVoxel: number,
  view: DataView,
  byteOffset: number,
  start: number,
  end: number,
  out: Float32Array,
): void {
  let p = byteOffset;
  for (let o = start; o < end; o++, p += bytesPerVoxel) {
    const red = view.getUint8(p);
    const green = view.getUint8(p + 1);
    const blue = view.getUint8(p + 2);
    out[o] = LUMA_RED * red + LUMA_GREEN * green + LUMA_BLUE * blue;
  }
}

/** Returns whether stored values of this datatype, once scaled, can be NaN or infinite. */
export function mayBeNonFinite(datatype: Datatype, scaling: Scaling): boolean {
  const floating = datatype.name.startsWith('float');
  return floating || scaling.slope !== 1 || scaling.inter !== 0;
}
