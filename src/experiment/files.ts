// The files of an experiment folder, read through one interface so the same loader runs on a
// folder on disk (node.ts), a zip of it and files held in memory (both usable in browsers).
// Paths are relative to the folder's root and use '/' separators, such as
// 'split-0/best-loss/model.safetensors'.

import { unzipSync } from 'fflate';

import { UserError } from '../errors.js';

/** Read access to the files of one experiment folder. */
export interface ExperimentFiles {
  /** Names the folder or archive in messages. */
  readonly name: string;
  /** Whether the file at `path` exists (folders are not files). */
  has(path: string): boolean;
  /** Reads a UTF-8 text file; throws a UserError naming the file when it cannot. */
  readText(path: string): Promise<string>;
  /** Reads a binary file; throws a UserError naming the file when it cannot. */
  readBytes(path: string): Promise<Uint8Array>;
}

/** Removes '.' parts and leading or repeated separators; rejects '..' parts. */
export function normalisePath(path: string): string {
  const parts = path
    .replace(/\\/g, '/')
    .split('/')
    .filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new UserError(`Path '${path}' leaves the experiment folder; '..' is not allowed.`);
  }
  return parts.join('/');
}

function missingFile(files: { name: string }, path: string): UserError {
  return new UserError(`${files.name} has no file '${path}'.`);
}

/** Experiment files held in memory, by relative path. */
export function memoryExperimentFiles(
  entries: ReadonlyMap<string, Uint8Array | string> | Record<string, Uint8Array | string>,
  name = 'the experiment files',
): ExperimentFiles {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const table = new Map<string, Uint8Array>();
  const pairs = entries instanceof Map ? [...entries] : Object.entries(entries);
  for (const [path, content] of pairs) {
    table.set(normalisePath(path), typeof content === 'string' ? encoder.encode(content) : content);
  }
  const files: ExperimentFiles = {
    name,
    has: (path) => table.has(normalisePath(path)),
    async readBytes(path) {
      const bytes = table.get(normalisePath(path));
      if (bytes === undefined) throw missingFile(files, path);
      return bytes;
    },
    async readText(path) {
      const bytes = await files.readBytes(path);
      try {
        return decoder.decode(bytes);
      } catch {
        throw new UserError(`${name}: '${path}' is not UTF-8 text.`);
      }
    },
  };
  return files;
}

/**
 * Experiment files from the bytes of a zip archive. The folder may be the archive's root or
 * its only top-level folder (as zipping a folder writes it), so both `experiment.json` and
 * `maps/experiment.json` work.
 */
export function zipExperimentFiles(bytes: Uint8Array, name = 'the zip archive'): ExperimentFiles {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new UserError(
      `${name} is not a valid zip archive (${(error as Error).message}); give a zip of an ` +
        'experiment folder.',
    );
  }
  const paths = Object.keys(entries).filter((path) => !path.endsWith('/'));
  const prefix = commonTopFolder(paths);
  const files = new Map<string, Uint8Array>();
  for (const path of paths) files.set(path.slice(prefix.length), entries[path]!);
  return memoryExperimentFiles(files, name);
}

/** Returns 'top/' when every path lies under one folder 'top' and none is experiment.json. */
function commonTopFolder(paths: readonly string[]): string {
  if (paths.length === 0 || paths.includes('experiment.json')) return '';
  const first = paths[0]!.split('/')[0]!;
  const prefix = `${first}/`;
  return paths.every((path) => path.startsWith(prefix)) ? prefix : '';
}
