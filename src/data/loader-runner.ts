// Where the loader runs preprocessing pipelines: in a worker pool, or in the calling thread on
// the Wasm image kernels. Both give the same values for the same steps.

import { UserError } from '../errors.js';
import { readNifti, readNiftiHeader } from './nifti/node.js';
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
 * size (closed by close()), and a pool is used as given (the caller closes it). With
 * `maxBytes`, an image file larger than that once decoded to float32 is rejected before its
 * voxels are read.
 */
export async function createRunner(
  workers: number | WorkerPool,
  options: { maxBytes?: number } = {},
): Promise<PipelineRunner> {
  const kernels = await loadImageKernels();
  const { maxBytes } = options;
  if (workers === 0) return localRunner(kernels, maxBytes);
  const owned = typeof workers === 'number';
  const pool = owned ? await WorkerPool.create({ size: workers }) : workers;
  return {
    kernels,
    run: async (input, steps, name) => {
      // Pool tasks read files with the reader's default limit, so the header is checked here.
      if (typeof input === 'string' && maxBytes !== undefined) {
        await report(name, checkDeclaredSize(input, maxBytes));
      }
      return pool.run({ input, steps, name });
    },
    close: async () => {
      if (owned) await pool.terminate();
    },
  };
}

function localRunner(kernels: ImageKernels, maxBytes: number | undefined): PipelineRunner {
  return {
    kernels,
    run: (input, steps, name) =>
      report(
        name,
        (async () => {
          const volume = typeof input === 'string' ? await readNifti(input, { maxBytes }) : input;
          return runPipeline(kernels, volume, steps);
        })(),
      ),
    close: async () => {},
  };
}

/** Rejects a file whose header declares more than `maxBytes` of float32 voxels. */
async function checkDeclaredSize(path: string, maxBytes: number): Promise<void> {
  const { shape } = await readNiftiHeader(path);
  const voxels = shape.reduce((product, size) => product * size, 1);
  if (4 * voxels <= maxBytes) return;
  throw new UserError(
    `${path}: the header dims [${shape.join(', ')}] declare ${voxels} voxels, ${4 * voxels} ` +
      `bytes as float32, more than the limit of ${maxBytes} bytes (the dataset's maxBytes). ` +
      'If the image is really this large, raise maxBytes in the dataset configuration; ' +
      'otherwise the header is corrupt.',
  );
}

/** Prefixes a failure with the image's name, as a pool task's failure is. */
async function report<T>(name: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const text = `Preprocessing ${name} failed: ${(error as Error).message}`;
    throw error instanceof UserError ? new UserError(text) : new Error(text);
  }
}
