// Node's built-in modules for the Trainer's Node-only paths (a folder on disk, a .net file read
// by path). They are fetched when first used with process.getBuiltinModule (Node >= 20.16)
// rather than imported, so the modules that use them still bundle for browsers, where calling
// them throws a UserError that names what to pass instead.

import { UserError } from '../errors.js';

type Fs = typeof import('node:fs');
type FsPromises = typeof import('node:fs/promises');
type Path = typeof import('node:path');
type Crypto = typeof import('node:crypto');

/** Returns whether this runtime is Node with process.getBuiltinModule. */
export function isNode(): boolean {
  return (
    typeof process !== 'undefined' &&
    Boolean(process.versions?.node) &&
    typeof process.getBuiltinModule === 'function'
  );
}

function builtin<T>(id: string, purpose: string): T {
  if (!isNode()) {
    throw new UserError(
      `${purpose} needs Node's file system (module ${id}), which this runtime lacks. In a ` +
        'browser, pass memoryStorage() as the experiment folder and netSource for a .net network.',
    );
  }
  return process.getBuiltinModule(id) as T;
}

export const nodeFs = (purpose: string): Fs => builtin<Fs>('node:fs', purpose);
export const nodeFsPromises = (purpose: string): FsPromises =>
  builtin<FsPromises>('node:fs/promises', purpose);
export const nodePath = (purpose: string): Path => builtin<Path>('node:path', purpose);
export const nodeCrypto = (purpose: string): Crypto => builtin<Crypto>('node:crypto', purpose);
