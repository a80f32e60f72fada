// The Node backend of MapsStorage: an experiment folder on disk. Every file is written to a
// temporary name and renamed (atomic-write.ts), so a crash never leaves a half-written file.
// The file system comes from node-builtins.ts rather than imports, so trainer.ts can open a
// folder given by path and still bundle for browsers.

import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { decodeWeights } from './maps.js';
import { nodeFsPromises, nodePath } from './node-builtins.js';
import { storagePath, toBytes, type MapsStorage } from './storage.js';

const PURPOSE = 'An experiment folder given by path';

/** Creates a MapsStorage over the folder `root` on disk, which the first write creates. */
export function nodeStorage(root: string): MapsStorage & { readonly root: string } {
  const fs = nodeFsPromises(PURPOSE);
  const { join, relative, sep } = nodePath(PURPOSE);
  const absolute = (path: string) => join(root, storagePath(path));
  return {
    root,
    async writeFile(path, data) {
      const target = absolute(path);
      await fs.mkdir(nodePath(PURPOSE).dirname(target), { recursive: true });
      await writeFileAtomic(target, [toBytes(data)]);
    },
    async readFile(path) {
      try {
        return new Uint8Array(await fs.readFile(absolute(path)));
      } catch (error) {
        throw new UserError(`Cannot read '${absolute(path)}': ${(error as Error).message}.`);
      }
    },
    async exists(path) {
      const target = absolute(path);
      const info = await fs.stat(target).catch(() => undefined);
      if (!info) return false;
      if (!info.isDirectory()) return true;
      const entries = await fs.readdir(target, { recursive: true, withFileTypes: true });
      return entries.some((entry) => !entry.isDirectory());
    },
    async remove(path) {
      await fs.rm(absolute(path), { recursive: true, force: true });
    },
    async rename(from, to) {
      const target = absolute(to);
      if (
        await fs.stat(target).then(
          () => true,
          () => false,
        )
      ) {
        throw new UserError(`Cannot rename '${absolute(from)}' to '${target}': it already exists.`);
      }
      await fs.mkdir(nodePath(PURPOSE).dirname(target), { recursive: true });
      await fs.rename(absolute(from), target);
    },
    async list() {
      const entries = await fs
        .readdir(root, { recursive: true, withFileTypes: true })
        .catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return [];
          throw error;
        });
      return entries
        .filter((entry) => !entry.isDirectory())
        .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
        .sort();
    },
  };
}

/** Reads a safetensors file of f32 weights from disk, by state_dict name. */
export async function readWeights(path: string): Promise<Map<string, Float32Array>> {
  const bytes = await nodeFsPromises('Reading weights by path')
    .readFile(path)
    .catch((error: Error) => {
      throw new UserError(`Cannot read the weights '${path}': ${error.message}.`);
    });
  return decodeWeights(new Uint8Array(bytes), path);
}
