// The worker side of WorkerPool: instantiates the image kernels from the module the pool
// sends, then reads each task's image, runs its pipeline and posts the volume back. The entry
// points worker.ts (Web Workers) and node-worker.ts (node:worker_threads) supply the port.

import { readNiftiBytes } from '../nifti/web.js';
import { runPipeline } from '../transforms/pipeline.js';
import type { Volume } from '../volume.js';
import type { ImageKernels } from './kernels.js';
import { loadImageKernels } from './loader.js';
import {
  fromMessage,
  toMessage,
  type RequestMessage,
  type ResponseMessage,
  type TaskInput,
} from './protocol.js';

/** The message channel to the pool. */
export interface WorkerPort {
  post(message: ResponseMessage, transfer?: Transferable[]): void;
  listen(handler: (message: RequestMessage) => void): void;
}

/** Reads a file path into a volume; only Node workers have one. */
export type PathReader = (path: string) => Promise<Volume>;

/** Serves the pool's requests on `port` until the worker is terminated. */
export function serveWorker(port: WorkerPort, readPath?: PathReader): void {
  let kernels: Promise<ImageKernels> | undefined;
  port.listen((message) => {
    if (message.type === 'init') {
      kernels = loadImageKernels(message.module);
      kernels.then(
        () => port.post({ type: 'ready' }),
        (error: Error) => port.post(errorMessage(-1, error)),
      );
      return;
    }
    const { id, name, input, steps } = message;
    const run = async () => {
      if (kernels === undefined) throw new Error('The worker got a task before its init message.');
      const volume = await readInput(input, name, readPath);
      const result = toMessage(runPipeline(await kernels, volume, steps));
      port.post({ type: 'result', id, volume: result }, [result.data.buffer]);
    };
    run().catch((error: Error) => port.post(errorMessage(id, error)));
  });
}

async function readInput(input: TaskInput, name: string, readPath?: PathReader): Promise<Volume> {
  switch (input.kind) {
    case 'volume':
      return fromMessage(input.volume);
    case 'bytes':
      return readNiftiBytes(input.bytes, { name });
    case 'path':
      if (readPath === undefined) {
        throw new Error(`Cannot read ${input.path}: a browser worker needs the file's bytes.`);
      }
      return readPath(input.path);
  }
}

function errorMessage(id: number, error: unknown): ResponseMessage {
  const errorName = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return { type: 'error', id, errorName, message };
}
