// Web Worker entry point of WorkerPool (start it as a module worker).

import type { RequestMessage, ResponseMessage } from './protocol.js';
import { serveWorker } from './worker-core.js';

/** The parts of a dedicated worker's global scope used here (the DOM typings lack that lib). */
interface WorkerScope {
  postMessage(message: ResponseMessage, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<RequestMessage>) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
serveWorker({
  post: (message, transfer = []) => scope.postMessage(message, transfer),
  listen: (handler) => scope.addEventListener('message', (event) => handler(event.data)),
});
