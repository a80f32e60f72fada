// Experiment folders on disk, and the package's network catalogue as the source of .net files
// that a folder's network imports but does not contain. Node only.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { catalogueFolder } from '../dsl/catalogue.js';
import type { SourceHost } from '../dsl/modules.js';
import { UserError } from '../errors.js';
import { normalisePath, zipExperimentFiles, type ExperimentFiles } from './files.js';
import { loadExperiment, type LoadedExperiment, type LoadOptions } from './load.js';

/** Experiment files read from the folder `root`. */
export function nodeExperimentFiles(root: string): ExperimentFiles {
  const folder = resolve(root);
  const pathOf = (path: string) => join(folder, normalisePath(path));
  const failure = (path: string, error: NodeJS.ErrnoException) =>
    new UserError(`Cannot read '${pathOf(path)}' (${error.code ?? error.message}).`);
  return {
    name: root,
    has: (path) => {
      const info = statSync(pathOf(path), { throwIfNoEntry: false });
      return info?.isFile() ?? false;
    },
    readText: (path) =>
      readFile(pathOf(path), 'utf8').catch((error) => {
        throw failure(path, error);
      }),
    readBytes: (path) =>
      readFile(pathOf(path)).then(
        (buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength),
        (error) => {
          throw failure(path, error);
        },
      ),
  };
}

/**
 * Serves the .net files of the package's dsl/ folder by file name ('common.net'). The folder
 * is looked up on the first request, so a bundle installed without dsl/ still loads folders
 * whose imports are all in networks/.
 */
export function catalogueHost(folder?: string): SourceHost {
  let root = folder;
  return {
    readFile(path) {
      if (root === undefined) {
        try {
          root = catalogueFolder();
        } catch {
          return undefined;
        }
      }
      const file = join(root, normalisePath(path));
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
  };
}

/**
 * Loads the experiment at `path`: a folder, or a .zip of one. Imports missing from its
 * networks/ folder come from the package's catalogue unless `options.imports` is given.
 */
export async function loadExperimentPath(
  path: string,
  options: LoadOptions = {},
): Promise<LoadedExperiment> {
  const info = statSync(path, { throwIfNoEntry: false });
  if (info === undefined) {
    throw new UserError(
      `Experiment '${path}' does not exist; give the folder that 'clinicadl-webgpu train' ` +
        'wrote, or a zip of it.',
    );
  }
  const files = info.isDirectory()
    ? nodeExperimentFiles(path)
    : zipExperimentFiles(new Uint8Array(await readFile(path)), path);
  return loadExperiment(files, { imports: catalogueHost(), ...options });
}
