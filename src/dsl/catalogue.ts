// The network catalogue: the .net files in the package's dsl/ folder, and lookup of a network
// by name (`ResNet18`) across them. Node only, because it reads the file system.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNet } from './parse.js';
import type { SourceHost } from './modules.js';

/** Reads files from disk; paths are used as given, relative to the working directory. */
export const nodeHost: SourceHost = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  },
};

/** The dsl/ folder of this package, found from this module's location (src/dsl or a bundle). */
export function catalogueFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level++) {
    const candidate = join(folder, 'dsl');
    if (existsSync(join(candidate, 'cnn.net'))) return candidate;
    folder = resolve(folder, '..');
  }
  throw new Error(
    `the network catalogue (dsl/*.net) was not found above ${fileURLToPath(import.meta.url)}`,
  );
}

/** Catalogue files, sorted by name. */
export function catalogueFiles(folder = catalogueFolder()): string[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.net'))
    .sort()
    .map((name) => join(folder, name));
}

/** Maps each network name declared in the catalogue to its file. */
export function catalogueNetworks(folder = catalogueFolder()): Map<string, string> {
  const networks = new Map<string, string>();
  for (const file of catalogueFiles(folder)) {
    const parsed = parseNet(readFileSync(file, 'utf8'), file);
    for (const decl of parsed.value?.decls ?? []) {
      if (decl.kind === 'network') networks.set(decl.name, file);
    }
  }
  return networks;
}
