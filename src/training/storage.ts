// The storage of an experiment folder: a MapsStorage reads and writes files by path relative
// to the folder's root, with '/' separators ('split-0/training.tsv'). This module has no Node
// imports, so the Trainer runs in browsers on memoryStorage(). The Node file system backend is
// nodeStorage(root) in storage-node.ts.
//
// Browser use (the page that trains on dropped files):
//   const storage = memoryStorage();
//   await new Trainer({ maps: storage, model, gpu, config }).train({ train, validation });
//   const zip: Uint8Array = storage.toZip(); // readable by zipExperimentFiles

import { zipSync } from 'fflate';
import { UserError } from '../errors.js';

/** Files of one experiment folder, by path relative to its root ('/' separators). */
export interface MapsStorage {
  /**
   * Writes a file, creating its folders. A string is written as UTF-8. A reader never sees a
   * partly written file (nodeStorage writes a temporary file and renames it).
   */
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** Reads a file; rejects with a UserError naming the path when it does not exist. */
  readFile(path: string): Promise<Uint8Array>;
  /** Whether `path` is a file, or a folder that contains at least one file. */
  exists(path: string): Promise<boolean>;
  /** Removes the file `path`, or the folder `path` with everything in it; missing is no error. */
  remove(path: string): Promise<void>;
  /** Paths of every file, sorted. */
  list(): Promise<string[]>;
  /**
   * Moves the file or folder `from` to `to`, which must not exist. Optional: checkpoints are
   * swapped in with it when present and copied otherwise. nodeStorage renames on disk, which
   * POSIX file systems do atomically.
   */
  rename?(from: string, to: string): Promise<void>;
}

/** A MapsStorage that keeps the files in memory, for browsers and tests. */
export interface MemoryStorage extends MapsStorage {
  /** The files by relative path; the storage's own table, so writes show up here. */
  readonly files: Map<string, Uint8Array>;
  /** Returns a zip archive of the files, with the folder's root as the archive's root. */
  toZip(): Uint8Array;
}

/**
 * Normalises a path relative to the folder's root: '\' becomes '/', and '.' parts and empty
 * parts are dropped. Throws a UserError for an absolute path, a '..' part or an empty path.
 */
export function storagePath(path: string): string {
  const unified = path.replace(/\\/g, '/');
  const parts = unified.split('/').filter((part) => part !== '' && part !== '.');
  if (unified.startsWith('/') || /^[A-Za-z]:/.test(unified) || parts.includes('..')) {
    throw new UserError(
      `Experiment path '${path}' is invalid: it must be relative to the folder's root and ` +
        "must not contain '..'.",
    );
  }
  if (parts.length === 0) {
    throw new UserError(`Experiment path '${path}' is empty; name a file inside the folder.`);
  }
  return parts.join('/');
}

/** Joins path parts with '/'. */
export function joinPath(...parts: string[]): string {
  return parts.filter((part) => part !== '').join('/');
}

const encoder = new TextEncoder();

/** Returns `data` as bytes, encoding a string as UTF-8. */
export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

/**
 * Creates an empty in-memory experiment folder, or one holding `initial` (path to bytes or
 * text). Written bytes are copied, so later changes to the caller's array do not leak in.
 */
export function memoryStorage(
  initial: Iterable<[string, Uint8Array | string]> | Record<string, Uint8Array | string> = [],
): MemoryStorage {
  const files = new Map<string, Uint8Array>();
  const entries = Symbol.iterator in initial ? initial : Object.entries(initial);
  for (const [path, data] of entries) files.set(storagePath(path), toBytes(data).slice());
  const inFolder = (folder: string) => (path: string) =>
    path === folder || path.startsWith(`${folder}/`);
  return {
    files,
    async writeFile(path, data) {
      files.set(storagePath(path), toBytes(data).slice());
    },
    async readFile(path) {
      const bytes = files.get(storagePath(path));
      if (bytes === undefined) {
        throw new UserError(`The experiment folder has no file '${path}'.`);
      }
      return bytes;
    },
    async exists(path) {
      const folder = storagePath(path);
      return [...files.keys()].some(inFolder(folder));
    },
    async remove(path) {
      const folder = storagePath(path);
      for (const key of [...files.keys()].filter(inFolder(folder))) files.delete(key);
    },
    async list() {
      return [...files.keys()].sort();
    },
    async rename(from, to) {
      const source = storagePath(from);
      const target = storagePath(to);
      const moved = [...files.keys()].filter(inFolder(source));
      if (moved.length === 0) {
        throw new UserError(`Cannot rename '${from}': it was not found in the experiment folder.`);
      }
      if ([...files.keys()].some(inFolder(target))) {
        throw new UserError(`Cannot rename '${from}' to '${to}': '${to}' already exists.`);
      }
      for (const path of moved) {
        files.set(target + path.slice(source.length), files.get(path)!);
        files.delete(path);
      }
    },
    toZip() {
      const entries: Record<string, Uint8Array> = {};
      for (const path of [...files.keys()].sort()) entries[path] = files.get(path)!;
      return zipSync(entries);
    },
  };
}
