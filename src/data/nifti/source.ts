// Byte sources for the NIfTI decoder. A source streams a file's bytes, already inflated when
// the file is gzip-compressed, so the decoder is the same for a Node file path (node.ts) and
// a browser Blob or ArrayBuffer (web.ts). Chunks are inflated, converted and dropped one at a
// time, so the whole compressed file and the whole inflated file are never in memory together.
// A Blob or ArrayBuffer source is already in memory compressed, but is never inflated whole.

import { UserError } from '../../errors.js';

/** A file to decode: a name for messages and a function that streams its (inflated) bytes. */
export interface ByteSource {
  name: string;
  open(): AsyncIterable<Uint8Array>;
}

/** Returns whether bytes start with the gzip magic number 1f 8b (both bytes, not either). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Returns a UserError for a gzip stream that the inflater rejected. */
export function gzipError(source: string, cause: unknown): UserError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new UserError(
    `${source}: the gzip stream is truncated or corrupt (${detail}); ` +
      'the file was cut short or damaged, so copy or download it again.',
  );
}

/** Yields the chunks of a web ReadableStream (async iteration is missing in some browsers). */
export async function* readStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Pulls exact byte counts from a chunk stream, then hands over the rest chunk by chunk. */
export class ChunkReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private finished = false;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.iterator = chunks[Symbol.asyncIterator]();
  }

  /** Returns the next `count` bytes, or fewer when the stream ends first. */
  async read(count: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let gathered = 0;
    while (gathered < count) {
      const chunk = await this.nextChunk(count - gathered);
      if (chunk === null) break;
      parts.push(chunk);
      gathered += chunk.length;
    }
    return concatenate(parts, gathered);
  }

  /** Discards up to `count` bytes; returns how many were discarded. */
  async skip(count: number): Promise<number> {
    let skipped = 0;
    while (skipped < count) {
      const chunk = await this.nextChunk(count - skipped);
      if (chunk === null) break;
      skipped += chunk.length;
    }
    return skipped;
  }

  /** Returns the next chunk of at most `limit` bytes, or null at the end of the stream. */
  async nextChunk(limit = Infinity): Promise<Uint8Array | null> {
    while (this.pending.length === 0) {
      if (this.finished) return null;
      const next = await this.iterator.next();
      if (next.done) {
        this.finished = true;
        return null;
      }
      this.pending = next.value;
    }
    const chunk = this.pending.length <= limit ? this.pending : this.pending.subarray(0, limit);
    this.pending = this.pending.subarray(chunk.length);
    return chunk;
  }

  /** Stops the underlying stream early (closing the file); safe to call more than once. */
  async close(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.iterator.return?.();
  }
}

function concatenate(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
