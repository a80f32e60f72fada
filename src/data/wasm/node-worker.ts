// node:worker_threads entry point of WorkerPool; it can also read tasks given as file paths.

import { parentPort } from 'node:worker_threads';

import { readNifti } from '../nifti/node.js';
import { serveWorker } from './worker-core.js';

if (parentPort === null) {
  throw new Error('src/data/wasm/node-worker.ts runs only as a worker thread of WorkerPool.');
}
const port = parentPort;
serveWorker(
  {
    post: (message, transfer = []) => port.postMessage(message, transfer as never[]),
    listen: (handler) => port.on('message', handler),
  },
  (path) => readNifti(path),
);
