// ExperimentFiles for the three ways the page gets an experiment folder: served over HTTP
// beside the page, picked or dropped as a folder of files, or given as a zip.

import {
  memoryExperimentFiles,
  normalisePath,
  zipExperimentFiles,
  type ExperimentFiles,
} from '../experiment/files.js';
import { UserError } from '../errors.js';
import type { ModelSource } from './protocol.js';

/** Returns the files of `source`; a served folder's list is fetched first. */
export async function experimentFiles(source: ModelSource): Promise<ExperimentFiles> {
  switch (source.kind) {
    case 'url':
      return urlExperimentFiles(source.base, source.name);
    case 'files':
      return blobExperimentFiles(source.files, source.name);
    case 'zip': {
      const bytes = new Uint8Array(await source.file.arrayBuffer());
      return zipExperimentFiles(bytes, source.name);
    }
  }
}

/** The file list a served experiment folder publishes beside its files. */
export const FILE_LIST = 'files.json';

/**
 * Files of a folder served under `base` (an absolute URL ending in '/'): `<base>files.json`
 * is `{ "files": [paths] }` and each file is fetched when it is read.
 */
export async function urlExperimentFiles(base: string, name: string): Promise<ExperimentFiles> {
  const listUrl = new URL(FILE_LIST, base);
  const response = await fetch(listUrl);
  if (!response.ok) {
    throw new UserError(
      `No experiment is served at ${base} (${listUrl.href} returned HTTP ${response.status}). ` +
        'Start the page with `clinicadl-webgpu web FOLDER`, or choose a folder or zip.',
    );
  }
  const list = (await response.json()) as { files?: unknown };
  if (!Array.isArray(list.files) || !list.files.every((path) => typeof path === 'string')) {
    throw new UserError(`${listUrl.href} must be {"files": [paths]}; it has no such list.`);
  }
  const paths = new Set((list.files as string[]).map(normalisePath));
  const read = async (path: string): Promise<Uint8Array> => {
    const key = normalisePath(path);
    if (!paths.has(key)) throw new UserError(`${name} has no file '${path}'.`);
    const url = new URL(key.split('/').map(encodeURIComponent).join('/'), base);
    const file = await fetch(url);
    if (!file.ok) throw new UserError(`Fetching ${url.href} failed: HTTP ${file.status}.`);
    return new Uint8Array(await file.arrayBuffer());
  };
  return lazyFiles(name, paths, read);
}

/** Files of a picked or dropped folder; each Blob is read when its file is. */
export function blobExperimentFiles(
  entries: readonly { path: string; file: Blob }[],
  name: string,
): ExperimentFiles {
  const blobs = new Map(entries.map((entry) => [normalisePath(entry.path), entry.file]));
  const read = async (path: string): Promise<Uint8Array> => {
    const blob = blobs.get(normalisePath(path));
    if (blob === undefined) throw new UserError(`${name} has no file '${path}'.`);
    return new Uint8Array(await blob.arrayBuffer());
  };
  return lazyFiles(name, new Set(blobs.keys()), read);
}

function lazyFiles(
  name: string,
  paths: ReadonlySet<string>,
  read: (path: string) => Promise<Uint8Array>,
): ExperimentFiles {
  const cache = new Map<string, Promise<Uint8Array>>();
  const readBytes = (path: string) => {
    const key = normalisePath(path);
    let bytes = cache.get(key);
    if (bytes === undefined) {
      bytes = read(key);
      cache.set(key, bytes);
    }
    return bytes;
  };
  return {
    name,
    has: (path) => paths.has(normalisePath(path)),
    readBytes,
    // memoryExperimentFiles decodes strictly and names the file when it is not UTF-8.
    readText: async (path) =>
      memoryExperimentFiles({ [path]: await readBytes(path) }, name).readText(path),
  };
}
