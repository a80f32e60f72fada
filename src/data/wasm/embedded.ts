// The image kernels with the module's bytes embedded in the bundle, for pages that should not
// fetch build/clinicadl.wasm separately. Only bundles can import this file, because Node has no
// loader for .wasm imports; Node code uses loadImageKernels().

import wasmBytes from '../../../build/clinicadl.wasm';
import type { ImageKernels } from './kernels.js';
import { compileWasmModule, loadImageKernels } from './loader.js';

/** Returns image kernels instantiated from the embedded bytes. */
export function loadEmbeddedKernels(): Promise<ImageKernels> {
  return loadImageKernels(wasmBytes);
}

/** Compiles the embedded bytes, for WorkerPool's `wasm` option. */
export function compileEmbeddedModule(): Promise<WebAssembly.Module> {
  return compileWasmModule(wasmBytes);
}
