// Runs the per-subject pipelines of a generator and writes each result as soon as it is ready.
// With workers the pipelines run in a WorkerPool while the main thread encodes and writes
// finished images (gzip runs in Node's thread pool), so computing and writing overlap. Without
// workers everything runs in the calling thread, which can be faster for tiny images because it
// skips the workers' start and the copies to them.

import { runPipeline, type PreprocessStep } from '../transforms/pipeline.js';
import type { Volume } from '../volume.js';
import type { ImageBackend } from '../wasm/backend.js';
import { WorkerPool } from '../wasm/pool.js';

export interface SubjectJob<T> {
  /** Value passed to `write` with the result, such as the subject record. */
  subject: T;
  /** Name used in errors, such as the participant id. */
  name: string;
  input: Volume;
  steps: PreprocessStep[];
}

export interface RunOptions {
  /** Backend of the calling thread, used when `workers` is 0. */
  backend: ImageBackend;
  /** Worker threads; 0 runs every pipeline in the calling thread. */
  workers: number;
  /** The worker script, for bundles (see WorkerPool); default the pool's own. */
  workerUrl?: URL;
}

/**
 * Runs every job's pipeline and calls `write` with each result, with at most workers + 1 jobs
 * in flight so memory stays bounded. Rejects on the first failure, after the running jobs end.
 */
export async function runSubjectJobs<T>(
  jobs: readonly SubjectJob<T>[],
  options: RunOptions,
  write: (subject: T, volume: Volume) => Promise<void>,
): Promise<void> {
  const pool =
    options.workers > 0
      ? await WorkerPool.create({
          size: options.workers,
          ...(options.workerUrl ? { workerUrl: options.workerUrl } : {}),
        })
      : null;
  const process = (job: SubjectJob<T>): Promise<Volume> =>
    pool === null
      ? Promise.resolve().then(() => runPipeline(options.backend, job.input, job.steps))
      : pool.run({ input: job.input, steps: job.steps, name: job.name });
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < jobs.length) {
      const job = jobs[next++]!;
      try {
        await write(job.subject, await process(job));
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const lanes = pool === null ? 1 : pool.size + 1;
  try {
    const results = await Promise.allSettled(Array.from({ length: lanes }, lane));
    const rejected = results.find((result) => result.status === 'rejected');
    if (rejected) throw (rejected as PromiseRejectedResult).reason;
  } finally {
    await pool?.terminate();
  }
}
