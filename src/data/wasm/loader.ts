// Loads build/clinicadl.wasm in Node or in a browser. Node reads the file, and a browser fetches
// it. A caller may instead pass the bytes, which an esbuild bundle can embed with its `binary`
// loader, or a compiled WebAssembly.Module, so that workers share one compilation.

import { ImageKernels } from './kernels.js';
import type { WasmExports } from './exports.js';

/** The source of the module: bytes, a compiled module, or a file path or URL to read. */
export type WasmSource = BufferSource | WebAssembly.Module | URL | string;

/**
 * The default location of the module. From src/ it is build/clinicadl.wasm. From a bundle it is
 * clinicadl.wasm beside the bundle, where scripts/build.mjs copies it for the web app and where
 * build/cli.js finds build/clinicadl.wasm.
 */
export const defaultWasmUrl = /\/src\/data\/wasm\/loader\.[jt]s$/.test(import.meta.url)
  ? new URL('../../../build/clinicadl.wasm', import.meta.url)
  : new URL('./clinicadl.wasm', import.meta.url);

const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);

let cached: Promise<ImageKernels> | undefined;

/**
 * Returns the image kernels, compiling and instantiating the module on the first call. Later
 * calls without a source return the same instance; a call with a source makes a new one.
 */
export function loadImageKernels(source?: WasmSource): Promise<ImageKernels> {
  if (source !== undefined) return instantiateKernels(source);
  cached ??= instantiateKernels(defaultWasmUrl).catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

/** Compiles the module from any source, for handing to workers or to loadImageKernels. */
export async function compileWasmModule(
  source: WasmSource = defaultWasmUrl,
): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  return WebAssembly.compile(await readWasmBytes(source));
}

async function instantiateKernels(source: WasmSource): Promise<ImageKernels> {
  const module = await compileWasmModule(source);
  // abort() needs the memory, which exists only once instantiation has returned.
  const loaded: { exports?: WasmExports } = {};
  const imports = {
    env: {
      abort(messagePtr: number, filePtr: number, line: number, column: number): never {
        const memory = loaded.exports?.memory;
        const message = memory ? readAssemblyString(memory, messagePtr) : 'unknown';
        const file = memory ? readAssemblyString(memory, filePtr) : 'unknown';
        throw new Error(`Wasm image kernels aborted: ${message} at ${file}:${line}:${column}.`);
      },
    },
  };
  const instance = await WebAssembly.instantiate(module, imports);
  loaded.exports = instance.exports as unknown as WasmExports;
  return new ImageKernels(loaded.exports);
}

async function readWasmBytes(source: BufferSource | URL | string): Promise<BufferSource> {
  if (typeof source !== 'string' && !(source instanceof URL)) return source;
  if (isNode && isFileLocation(source)) {
    return readWasmFile(
      typeof source === 'string' && source.startsWith('file:') ? new URL(source) : source,
    );
  }
  const url = source instanceof URL ? source : new URL(source, globalThis.location?.href);
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `Fetching the Wasm image kernels from ${url.href} failed: HTTP ${response.status}.`,
    );
  }
  return response.arrayBuffer();
}

/** True for a file: URL or a string without a URL scheme (a path). */
function isFileLocation(source: URL | string): boolean {
  if (source instanceof URL) return source.protocol === 'file:';
  return source.startsWith('file:') || !/^[a-z][a-z0-9+.-]*:/i.test(source);
}

async function readWasmFile(path: URL | string): Promise<BufferSource> {
  // The module name is not a literal, so bundlers for the browser leave it unresolved.
  const fsModule = 'node:fs/promises';
  const { readFile } = (await import(fsModule)) as typeof import('node:fs/promises');
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const shown = path instanceof URL ? decodeURIComponent(path.pathname) : path;
    throw new Error(
      `Cannot read the Wasm image kernels at ${shown}: ${(error as Error).message}. ` +
        'Run `npm run build:wasm` to build them.',
    );
  }
}

/** Decodes an AssemblyScript string: UTF-16 code units, byte length stored just before. */
function readAssemblyString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  const byteLength = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, byteLength >>> 1));
}
