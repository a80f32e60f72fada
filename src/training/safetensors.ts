// The safetensors format, in which weights and checkpoints are stored with PyTorch
// state_dict names: an 8-byte little-endian header length, a JSON header mapping each name to
// its dtype, shape and byte range, then the raw little-endian data. This module encodes and
// decodes bytes, so it works in Node and in browsers alike.

import { UserError } from '../errors.js';

export type SafetensorsDType = 'F32' | 'F64' | 'I32' | 'I64' | 'U8' | 'F16';

export interface NamedTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** Little-endian element bytes (Float32Array etc. on little-endian hosts, which all are). */
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDType, number> = {
  F32: 4,
  F64: 8,
  I32: 4,
  I64: 8,
  U8: 1,
  F16: 2,
};

/** Headers beyond this size are rejected as corrupt (the reference implementation uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, size) => count * size, 1);
}

/**
 * Encodes tensors (in the map's order) and optional string metadata. The header is padded with
 * spaces to a multiple of 8 bytes so every tensor starts aligned.
 */
export function encodeSafetensors(
  tensors: Map<string, NamedTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const bytes = elementCount(tensor.shape) * BYTES_PER_ELEMENT[tensor.dtype];
    if (tensor.data.byteLength !== bytes) {
      throw new UserError(
        `Tensor '${name}' has ${tensor.data.byteLength} bytes of data but shape ` +
          `[${tensor.shape.join(', ')}] of ${tensor.dtype} needs ${bytes}.`,
      );
    }
    header[name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const file = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors.values()) {
    file.set(
      new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
      position,
    );
    position += tensor.data.byteLength;
  }
  return file;
}

export interface DecodedSafetensors {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

function corrupt(source: string, problem: string): UserError {
  return new UserError(`${source} is not a valid safetensors file: ${problem}.`);
}

/** Decodes a safetensors file; `source` names it in errors (a path or 'upload'). */
export function decodeSafetensors(bytes: Uint8Array, source = 'input'): DecodedSafetensors {
  if (bytes.length < 8) throw corrupt(source, `it has only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw corrupt(
      source,
      `its header length ${headerLength} exceeds the file size ${bytes.length}`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw corrupt(source, `its header is not JSON (${(error as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = entry as {
      dtype: SafetensorsDType;
      shape: number[];
      data_offsets: [number, number];
    };
    const width = BYTES_PER_ELEMENT[dtype];
    if (width === undefined)
      throw corrupt(source, `tensor '${name}' has unsupported dtype ${dtype}`);
    const [begin, end] = offsets ?? [];
    const expected = elementCount(shape ?? []) * width;
    if (!(begin! >= 0 && end! <= dataLength && end! - begin! === expected)) {
      throw corrupt(
        source,
        `tensor '${name}' has byte range [${begin}, ${end}] for ${expected} bytes`,
      );
    }
    // Copy, so the tensor is aligned whatever the header length was.
    // Uint8Array's slice copies even for a Node Buffer, whose own slice is a view of its pool.
    const copy = Uint8Array.prototype.slice.call(
      bytes,
      dataStart + begin!,
      dataStart + end!,
    ).buffer;
    const data =
      dtype === 'F32'
        ? new Float32Array(copy)
        : dtype === 'F64'
          ? new Float64Array(copy)
          : dtype === 'I32'
            ? new Int32Array(copy)
            : dtype === 'I64'
              ? new BigInt64Array(copy)
              : dtype === 'F16'
                ? new Uint16Array(copy)
                : new Uint8Array(copy);
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}
