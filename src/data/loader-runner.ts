// Where the loader runs preprocessing pipelines: in a worker pool, or in the calling thread on
// the Wasm image kernels. Both give the same values for the same steps.

import { UserError } from '../errors.js';
import { readNifti } from './nifti/node.js';
import { runPipeline, type PreprocessStep } from './transforms/pipeline.js';
import type { Volume } from './volume.js';
import type { ImageKernels } from './wasm/kernels.js';
import { loadImageKernels } from './wasm/loader.js';
import { WorkerPool } from './wasm/pool.js';

export interface PipelineRunner {
  /** The calling thread's kernels, for cheap work such as cutting patches. */
  readonly kernels: ImageKernels;
  /** Reads `input` (a path) or takes a volume, runs `steps` and returns the result. */
  run(input: string | Volume, steps: readonly PreprocessStep[], name: string): Promise<Volume>;
  /** Stops the workers this runner started. */
  close(): Promise<void>;
}

/**
 * Creates a runner: `workers` 0 runs in the calling thread, a number starts a pool of that
 * size (closed by close()), and a pool is used as given (the caller closes it).
 */
export async function createRunner(workers: number | WorkerPool): Promise<PipelineRunner> {
  const kernels = await loadImageKernels();
  if (workers === 0) return localRunner(kernels);
  const owned = typeof workers === 'number';
  const pool = owned ? await WorkerPool.create({ size: workers }) : workers;
  return {
    kernels,
    run: (input, steps, name) => pool.run({ input, steps, name }),
    close: async () => {
      if (owned) await pool.terminate();
    },
  };
}

function localRunner(kernels: ImageKernels): PipelineRunner {
  return {
    kernels,
    run: async (input, steps, name) => {
      try {
        const volume = typeof input === 'string' ? await readNifti(input) : input;
        return runPipeline(kernels, volume, steps);
      } catch (error) {
        // The same message as a pool task's, so both runners report a file the same way.
        const text = `Preprocessing ${name} failed: ${(error as Error).message}`;
        throw error instanceof UserError ? new UserError(text) : new Error(text);
      }
    },
    close: async () => {},
  };
}
