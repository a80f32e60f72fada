// The Wasm image kernels and the worker pool. Volume-level operations live in
// src/data/transforms, which run on any ImageBackend from here.

export type { Dims, ImageBackend, IntensityStatistics, Interpolation } from './backend.js';
export { ImageKernels } from './kernels.js';
export { compileWasmModule, defaultWasmUrl, loadImageKernels, type WasmSource } from './loader.js';
export { WorkerPool, type PoolOptions, type PoolTask } from './pool.js';
