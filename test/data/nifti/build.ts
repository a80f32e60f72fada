// Builds NIfTI-1 and Analyze 7.5 files byte by byte for the tests, independently of the
// library's encoder, so any datatype, byte order or header field can be exercised.

import { setLogSink } from '../../../src/log.js';

export interface BuildOptions {
  /** dim[1..dim[0]]; dim[0] is its length unless `rank` is given. */
  shape: number[];
  rank?: number;
  datatype: number;
  bitpix: number;
  /** Stored voxel values, written with `writeVoxel`. */
  values: (number | bigint)[];
  littleEndian?: boolean;
  /** 'n+1' single file (default), 'ni1' header of a pair, '' for Analyze 7.5. */
  magic?: 'n+1' | 'ni1' | '';
  slope?: number;
  inter?: number;
  pixdim?: number[];
  qformCode?: number;
  sformCode?: number;
  quatern?: [number, number, number];
  qoffset?: [number, number, number];
  srow?: number[];
  voxOffset?: number;
  /** Bytes placed between the header and the voxels (extender and extensions). */
  between?: Uint8Array;
  /** Analyze only: SPM origin, glmax, glmin, cal_min, cal_max. */
  analyzeOrigin?: [number, number, number];
  glRange?: [number, number];
  calRange?: [number, number];
}

/** Returns the header bytes (348) and the voxel bytes, separately. */
export function buildParts(options: BuildOptions): { header: Uint8Array; voxels: Uint8Array } {
  const le = options.littleEndian ?? true;
  const header = new Uint8Array(348);
  const view = new DataView(header.buffer);
  view.setInt32(0, 348, le);

  view.setInt16(40, options.rank ?? options.shape.length, le);
  for (let axis = 0; axis < 7; axis++) view.setInt16(42 + 2 * axis, options.shape[axis] ?? 1, le);
  view.setInt16(70, options.datatype, le);
  view.setInt16(72, options.bitpix, le);
  const pixdim = options.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1];
  pixdim.forEach((value, index) => view.setFloat32(76 + 4 * index, value, le));
  view.setFloat32(108, options.voxOffset ?? 352, le);
  view.setFloat32(112, options.slope ?? 1, le);
  view.setFloat32(116, options.inter ?? 0, le);

  if (options.calRange) {
    view.setFloat32(128, options.calRange[0], le);
    view.setFloat32(124, options.calRange[1], le);
  }
  if (options.glRange) {
    view.setInt32(144, options.glRange[0], le);
    view.setInt32(140, options.glRange[1], le);
  }

  const magic = options.magic ?? 'n+1';
  if (magic === '') {
    const origin = options.analyzeOrigin ?? [0, 0, 0];
    origin.forEach((value, axis) => view.setInt16(253 + 2 * axis, value, le));
  } else {
    view.setInt16(252, options.qformCode ?? 0, le);
    view.setInt16(254, options.sformCode ?? 0, le);
    (options.quatern ?? [0, 0, 0]).forEach((value, i) => view.setFloat32(256 + 4 * i, value, le));
    (options.qoffset ?? [0, 0, 0]).forEach((value, i) => view.setFloat32(268 + 4 * i, value, le));
    (options.srow ?? []).forEach((value, i) => view.setFloat32(280 + 4 * i, value, le));
    for (let i = 0; i < 3; i++) header[344 + i] = magic.charCodeAt(i);
  }
  return { header, voxels: encodeValues(options, le) };
}

/** Returns a single .nii file: header, the bytes up to vox_offset, voxels. */
export function buildNifti(options: BuildOptions): Uint8Array {
  const { header, voxels } = buildParts(options);
  const between = options.between ?? new Uint8Array(4);
  const out = new Uint8Array(header.length + between.length + voxels.length);
  out.set(header);
  out.set(between, header.length);
  out.set(voxels, header.length + between.length);
  return out;
}

function encodeValues(options: BuildOptions, le: boolean): Uint8Array {
  const bytes = options.bitpix / 8;
  const out = new Uint8Array(options.values.length * bytes);
  const view = new DataView(out.buffer);
  options.values.forEach((value, index) =>
    writeVoxel(view, index * bytes, options.datatype, value, le),
  );
  return out;
}

function writeVoxel(
  view: DataView,
  offset: number,
  datatype: number,
  value: number | bigint,
  le: boolean,
) {
  const number = Number(value);
  switch (datatype) {
    case 2:
      return view.setUint8(offset, number);
    case 256:
      return view.setInt8(offset, number);
    case 4:
      return view.setInt16(offset, number, le);
    case 512:
      return view.setUint16(offset, number, le);
    case 8:
      return view.setInt32(offset, number, le);
    case 768:
      return view.setUint32(offset, number, le);
    case 16:
      return view.setFloat32(offset, number, le);
    case 64:
      return view.setFloat64(offset, number, le);
    case 1024:
      return view.setBigInt64(offset, BigInt(value), le);
    case 1280:
      return view.setBigUint64(offset, BigInt(value), le);
    // RGB24 and RGBA32: the value is 0xRRGGBB(AA), stored byte by byte.
    case 128:
      for (let i = 0; i < 3; i++) view.setUint8(offset + i, (number >> (16 - 8 * i)) & 0xff);
      return;
    case 2304:
      for (let i = 0; i < 4; i++)
        view.setUint8(offset + i, Number((BigInt(value) >> BigInt(24 - 8 * i)) & 0xffn));
      return;
    default:
      throw new Error(`the test builder has no encoding for datatype ${datatype}`);
  }
}

/** Runs `action` with the library's log captured; returns its result and the messages. */
export async function captureLog<T>(
  action: () => Promise<T>,
): Promise<{ result: T; messages: string[] }> {
  const messages: string[] = [];
  const previous = setLogSink((level, scope, message) =>
    messages.push(`${level} ${scope}: ${message}`),
  );
  try {
    return { result: await action(), messages };
  } finally {
    setLogSink(previous);
  }
}
