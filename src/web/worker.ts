// The page's model worker (a dedicated module Web Worker): it owns the WebGPU device, so
// reading, preprocessing, inference and training run off the page's main thread. Requests
// and responses are the messages of protocol.ts.

import { createLogger } from '../log.js';
import type { FailureInfo, Request, Response } from './protocol.js';
import { ModelSession } from './session.js';
import { TrainingSession } from './training.js';

const log = createLogger('web-worker');

/** The parts of a dedicated worker's global scope used here (the DOM typings lack that lib). */
interface WorkerScope {
  postMessage(message: Response, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<Request>) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
const session = new ModelSession();
const training = new TrainingSession(session);

// Requests run one at a time, in order, because they share the device and the loaded model.
let queue: Promise<void> = Promise.resolve();

scope.addEventListener('message', (event) => {
  const request = event.data;
  queue = queue.then(() => serve(request));
});

async function serve(request: Request): Promise<void> {
  try {
    const result = await handle(request);
    scope.postMessage({ id: request.id, type: 'done', result }, transfers(result));
  } catch (error) {
    log.error(`${request.type} request ${request.id} failed: ${(error as Error).message}`);
    scope.postMessage({ id: request.id, type: 'failed', error: failureInfo(error) });
  }
}

function handle(request: Request): Promise<unknown> {
  switch (request.type) {
    case 'load':
      return session.load(request.source);
    case 'predict':
      return session.predict(request.file, request.name, request.image);
    case 'saliency':
      return session.saliency(request.target);
    case 'train':
      return training.train(request.options, (progress) =>
        scope.postMessage({ id: request.id, type: 'progress', progress }),
      );
    case 'save':
      return training.save();
  }
}

function failureInfo(error: unknown): FailureInfo {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** Returns the large buffers of a result, which postMessage moves to the page, not copies. */
function transfers(result: unknown): Transferable[] {
  const found: Transferable[] = [];
  const visit = (value: unknown, depth: number) => {
    if (depth > 3 || value === null || typeof value !== 'object') return;
    if (ArrayBuffer.isView(value)) {
      if (value.buffer instanceof ArrayBuffer && !found.includes(value.buffer)) {
        found.push(value.buffer);
      }
      return;
    }
    for (const item of Object.values(value)) visit(item, depth + 1);
  };
  visit(result, 0);
  return found;
}
