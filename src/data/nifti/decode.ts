// The NIfTI decoder shared by Node and browsers: header, extensions, then the voxels converted
// to float32 chunk by chunk as the (possibly inflating) byte source delivers them.

import { UserError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { type Affine, type HeaderExtension, Volume, type VolumeHeader } from '../volume.js';
import { affineFromHeader } from './affine.js';
import { decodeVoxels, mayBeNonFinite } from './datatypes.js';
import { detectHeaderSize, type NiftiHeader, parseExtensions, parseHeader } from './header.js';
import { type ByteSource, ChunkReader } from './source.js';

const log = createLogger('nifti');

/**
 * The policy for NaN and infinite voxels. 'zero' (the default) replaces them with 0, because
 * one NaN spreads through a network's whole batch. 'keep' leaves them and 'error' rejects the
 * file. 'zero' and 'keep' log a warning with the count.
 */
export type NonFinitePolicy = 'error' | 'zero' | 'keep';

/** Default of ReadOptions.maxBytes: 2 GiB of float32, 536870912 voxels. */
export const DEFAULT_MAX_BYTES = 2 ** 31;

export interface ReadOptions {
  /** NaN and infinite voxels: 'zero' (default), 'keep' or 'error'. */
  nonFinite?: NonFinitePolicy;
  /**
   * Largest decoded image accepted, in bytes of float32 (4 per voxel); default 2^31 (2 GiB),
   * room for a 4D series of 300 volumes of 1.5 M voxels. The header's declared size is checked
   * before any voxel is read or inflated, so a corrupt or hostile header cannot exhaust memory.
   * Infinity turns the check off.
   */
  maxBytes?: number;
}

/**
 * Decodes a NIfTI-1, NIfTI-2 or Analyze 7.5 image. A single file (.nii) is one source; for a
 * .hdr/.img pair, `source` is the header and `imageSource` the image.
 */
export async function decodeNifti(
  source: ByteSource,
  options: ReadOptions = {},
  imageSource?: ByteSource,
): Promise<Volume> {
  const policy = checkPolicy(options.nonFinite ?? 'zero');
  const maxBytes = checkMaxBytes(options.maxBytes ?? DEFAULT_MAX_BYTES);
  const reader = new ChunkReader(source.open());
  try {
    const pair = imageSource !== undefined;
    const { header, extensions } = await readHeaderPart(reader, source.name, pair);
    checkDeclaredSize(header, source.name, maxBytes);
    let image = reader;
    let imageName = source.name;
    if (imageSource !== undefined) {
      image = new ChunkReader(imageSource.open());
      imageName = imageSource.name;
      const skipped = await image.skip(header.voxOffset);
      if (skipped < header.voxOffset) throw endsBeforeData(imageName, skipped, header.voxOffset);
    }
    try {
      const { data, nonFiniteCount } = await decodeImage(image, header, imageName, policy);
      const volumeHeader = volumeHeaderOf(header, extensions, source.name, nonFiniteCount);
      return new Volume(
        data,
        header.shape,
        affineFromHeader(header, source.name).affine,
        volumeHeader,
      );
    } finally {
      await image.close();
    }
  } finally {
    await reader.close();
  }
}

/** The grid of an image without its voxels: shape, affine and header fields. */
export interface VolumeInfo {
  shape: number[];
  affine: Affine;
  header: VolumeHeader;
}

/**
 * Decodes only the header and extensions of a file (the .hdr of a pair, with `pair` true) and
 * stops reading there, so the grid of a large image is known without inflating its voxels.
 */
export async function decodeNiftiHeader(source: ByteSource, pair = false): Promise<VolumeInfo> {
  const reader = new ChunkReader(source.open());
  try {
    const { header, extensions } = await readHeaderPart(reader, source.name, pair);
    const volumeHeader = volumeHeaderOf(header, extensions, source.name, 0);
    const { affine } = affineFromHeader(header, source.name);
    return { shape: header.shape, affine, header: volumeHeader };
  } finally {
    await reader.close();
  }
}

// Reads the header and the extensions, leaving a single file's reader at its first voxel.
async function readHeaderPart(
  reader: ChunkReader,
  source: string,
  pair: boolean,
): Promise<{ header: NiftiHeader; extensions: HeaderExtension[] }> {
  const first = await reader.read(4);
  const { headerSize, littleEndian } = detectHeaderSize(first, source);
  const rest = await reader.read(headerSize - 4);
  if (rest.length < headerSize - 4) {
    throw new UserError(
      `${source}: the file ends after ${4 + rest.length} bytes, inside its ` +
        `${headerSize}-byte header; it is truncated.`,
    );
  }
  const headerBytes = new Uint8Array(headerSize);
  headerBytes.set(first);
  headerBytes.set(rest, 4);
  const header = parseHeader(headerBytes, source, pair);
  let extensionBytes: Uint8Array;
  if (pair) {
    extensionBytes = await readAll(reader);
  } else {
    const dataStart = singleFileDataStart(header, source);
    extensionBytes = await reader.read(dataStart - headerSize);
    if (extensionBytes.length < dataStart - headerSize) {
      throw endsBeforeData(source, headerSize + extensionBytes.length, dataStart);
    }
  }
  return { header, extensions: readExtensions(extensionBytes, littleEndian, source) };
}

function checkMaxBytes(maxBytes: number): number {
  if (typeof maxBytes === 'number' && maxBytes > 0 && !Number.isNaN(maxBytes)) return maxBytes;
  throw new UserError(
    `maxBytes is ${String(maxBytes)}; expected a number of bytes > 0 (Infinity turns the ` +
      'size check off).',
  );
}

function checkDeclaredSize(header: NiftiHeader, source: string, maxBytes: number): void {
  const bytes = 4 * header.voxelCount;
  if (bytes <= maxBytes) return;
  throw new UserError(
    `${source}: the header dims [${header.shape.join(', ')}] declare ${header.voxelCount} ` +
      `voxels, ${bytes} bytes as float32, more than the limit of ${maxBytes} bytes (option ` +
      'maxBytes). If the image is really this large, read it with a larger maxBytes; ' +
      'otherwise the header is corrupt.',
  );
}

function checkPolicy(policy: string): NonFinitePolicy {
  if (policy === 'error' || policy === 'zero' || policy === 'keep') return policy;
  throw new UserError(`nonFinite is '${policy}'; expected 'error', 'zero' or 'keep'.`);
}

// A single file's voxels start at vox_offset. An offset inside the header and its extender
// (below 352, or 544 for NIfTI-2) is invalid, so the voxels are read from just after them,
// with a warning.
function singleFileDataStart(header: NiftiHeader, source: string): number {
  const minimum = header.headerSize + 4;
  if (header.voxOffset >= minimum) return header.voxOffset;
  log.warn(
    `${source}: vox_offset is ${header.voxOffset}, inside the header; reading the voxels ` +
      `from byte ${minimum}, right after the header and its extender.`,
  );
  return minimum;
}

async function readAll(reader: ChunkReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let chunk = await reader.nextChunk(); chunk !== null; chunk = await reader.nextChunk()) {
    parts.push(new Uint8Array(chunk));
  }
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function readExtensions(bytes: Uint8Array, littleEndian: boolean, source: string) {
  const { extensions, problem } = parseExtensions(bytes, littleEndian);
  if (problem !== null) {
    log.warn(`${source}: ${problem}; kept the ${extensions.length} extension(s) before it.`);
  }
  return extensions;
}

function endsBeforeData(source: string, length: number, dataStart: number): UserError {
  return new UserError(
    `${source}: the file ends at byte ${length}, before its voxels start at byte ${dataStart} ` +
      '(vox_offset); it is truncated or vox_offset is wrong.',
  );
}

function truncated(source: string, header: NiftiHeader, got: number, needed: number): UserError {
  return new UserError(
    `${source}: the file is truncated: it contains ${got} of the ${needed} image bytes that the ` +
      `header dims [${header.shape.join(', ')}] of ${header.datatype.name} need. The file was ` +
      'cut short, or its header dimensions disagree with the data size.',
  );
}

function allocate(header: NiftiHeader, source: string): Float32Array {
  try {
    return new Float32Array(header.voxelCount);
  } catch (error) {
    throw new UserError(
      `${source}: the header dims [${header.shape.join(', ')}] give ${header.voxelCount} ` +
        `voxels, which cannot be held as float32 in memory (${(error as Error).message}); ` +
        'the header is corrupt or the image is too large.',
    );
  }
}

async function decodeImage(
  image: ChunkReader,
  header: NiftiHeader,
  source: string,
  policy: NonFinitePolicy,
): Promise<{ data: Float32Array; nonFiniteCount: number }> {
  const out = allocate(header, source);
  const voxelBytes = header.datatype.bytes;
  const imageBytes = header.voxelCount * voxelBytes;
  const carry = new Uint8Array(voxelBytes);
  let carried = 0;
  let decoded = 0;
  while (decoded < header.voxelCount) {
    let chunk = await image.nextChunk(imageBytes - decoded * voxelBytes - carried);
    if (chunk === null) throw truncated(source, header, decoded * voxelBytes + carried, imageBytes);
    if (carried > 0) {
      // Completes the voxel split across the previous chunk boundary.
      const take = Math.min(voxelBytes - carried, chunk.length);
      carry.set(chunk.subarray(0, take), carried);
      carried += take;
      chunk = chunk.subarray(take);
      if (carried < voxelBytes) continue;
      decodeChunk(carry, 1, header, out, decoded);
      decoded += 1;
      carried = 0;
    }
    const whole = Math.floor(chunk.length / voxelBytes);
    decodeChunk(chunk, whole, header, out, decoded);
    decoded += whole;
    carried = chunk.length - whole * voxelBytes;
    carry.set(chunk.subarray(whole * voxelBytes));
  }
  await warnOnTrailingBytes(image, source, imageBytes);
  const nonFiniteCount = mayBeNonFinite(header.datatype, header.scaling)
    ? handleNonFinite(out, policy, source)
    : 0;
  return { data: out, nonFiniteCount };
}

function decodeChunk(
  bytes: Uint8Array,
  count: number,
  header: NiftiHeader,
  out: Float32Array,
  outOffset: number,
): void {
  if (count === 0) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { datatype, littleEndian, scaling } = header;
  decodeVoxels(datatype, view, 0, count, littleEndian, scaling, out, outOffset);
}

// Bytes after the image are read (so a gzip stream's checksum is still verified) and counted,
// up to a limit past which the stream is closed unread, so that a file whose header
// understates its size by far is not inflated to the end.
const TRAILING_LIMIT_BYTES = 16 << 20;

async function warnOnTrailingBytes(image: ChunkReader, source: string, imageBytes: number) {
  let trailing = 0;
  for (let chunk = await image.nextChunk(); chunk !== null; chunk = await image.nextChunk()) {
    trailing += chunk.length;
    if (trailing > TRAILING_LIMIT_BYTES) break;
  }
  if (trailing === 0) return;
  const count = trailing > TRAILING_LIMIT_BYTES ? `more than ${TRAILING_LIMIT_BYTES}` : trailing;
  log.warn(
    `${source}: ${count} bytes follow the ${imageBytes}-byte image that the header dims ` +
      'describe; they were ignored. Check that the header dimensions are right.',
  );
}

function handleNonFinite(data: Float32Array, policy: NonFinitePolicy, source: string): number {
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    if (value - value !== 0) {
      count += 1;
      if (policy === 'zero') data[i] = 0;
    }
  }
  if (count === 0) return 0;
  if (policy === 'error') {
    throw new UserError(
      `${source}: ${count} voxel(s) are NaN or infinite; read with nonFinite: 'zero' ` +
        "to replace them with 0, or 'keep' to keep them.",
    );
  }
  const action = policy === 'zero' ? 'replaced with 0' : "kept (nonFinite: 'keep')";
  log.warn(`${source}: ${count} voxel(s) are NaN or infinite; ${action}.`);
  return count;
}

function volumeHeaderOf(
  header: NiftiHeader,
  extensions: HeaderExtension[],
  source: string,
  nonFiniteCount: number,
): VolumeHeader {
  const fields = header.fields;
  return {
    format: header.format,
    datatype: header.datatype.code,
    sclSlope: header.scaling.slope,
    sclInter: header.scaling.inter,
    qformCode: header.format === 'analyze' ? 0 : header.qformCode,
    sformCode: header.format === 'analyze' ? 0 : header.sformCode,
    pixdim: header.pixdim.slice(1, 8),
    xyztUnits: Number(fields.xyzt_units),
    intentCode: Number(fields.intent_code),
    intentName: fields.intent_name,
    intentParams: [fields.intent_p1, fields.intent_p2, fields.intent_p3],
    description: fields.description,
    auxFile: fields.aux_file,
    calMin: fields.cal_min,
    calMax: fields.cal_max,
    toffset: fields.toffset,
    sliceCode: Number(fields.slice_code),
    sliceStart: Number(fields.slice_start),
    sliceEnd: Number(fields.slice_end),
    sliceDuration: fields.slice_duration,
    dimInfo: fields.dim_info,
    extensions,
    source,
    nonFiniteCount,
  };
}
