// The page behind browser.test.ts, bundled for Chromium: it runs a preprocessing pipeline on
// the Wasm kernels in the page and on a pool of Web Workers, and returns both results.

import type { PreprocessStep } from '../../../src/data/transforms/pipeline.js';
import { runPipeline } from '../../../src/data/transforms/pipeline.js';
import { Volume } from '../../../src/data/volume.js';
import { compileEmbeddedModule, loadEmbeddedKernels } from '../../../src/data/wasm/embedded.js';
import { loadImageKernels } from '../../../src/data/wasm/loader.js';
import { WorkerPool } from '../../../src/data/wasm/pool.js';

/** The input of one browser run, as plain data. */
export interface BrowserInput {
  data: number[];
  shape: number[];
  affine: number[];
  steps: PreprocessStep[];
}

/** The outputs of one browser run, as plain data. */
export interface BrowserResult {
  single: number[];
  embedded: number[];
  pooled: number[][];
  poolError: string;
}

declare global {
  interface Window {
    runPreprocessing(input: BrowserInput): Promise<BrowserResult>;
  }
}

window.runPreprocessing = async (input) => {
  // No source: the loader fetches clinicadl.wasm beside this bundle.
  const kernels = await loadImageKernels();
  const volume = new Volume(
    Float32Array.from(input.data),
    input.shape,
    Float64Array.from(input.affine),
  );
  const single = runPipeline(kernels, volume, input.steps);
  const embedded = runPipeline(await loadEmbeddedKernels(), volume, input.steps);
  const pool = await WorkerPool.create({
    size: 2,
    wasm: await compileEmbeddedModule(),
    workerUrl: new URL('./worker.js', location.href),
  });
  try {
    const pooled = await pool.map([0, 1].map(() => ({ input: volume, steps: input.steps })));
    let poolError = '';
    await pool
      .run({ input: Uint8Array.of(1, 2, 3, 4), steps: [], name: 'broken.nii' })
      .catch((error: Error) => {
        poolError = error.message;
      });
    return {
      single: Array.from(single.data),
      embedded: Array.from(embedded.data),
      pooled: pooled.map((result) => Array.from(result.data)),
      poolError,
    };
  } finally {
    await pool.terminate();
  }
};
