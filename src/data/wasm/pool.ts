// A pool of workers that run preprocessing pipelines over many volumes in parallel. Node uses
// node:worker_threads (node-worker.ts) and browsers use module Web Workers (worker.ts), with one
// message protocol (protocol.ts). The Wasm module is compiled once and sent to every worker.
// A task that fails rejects with its file name, and a worker that dies is replaced.
// terminate() stops every worker, so a Node process can exit.
//
// NOTE: in Node the worker runs node-worker.ts from source when this file is .ts, which needs
// the tsx loader in process.execArgv (mocha and `node --import ./scripts/node-loaders.mjs` put
// it there). A bundle that moves this file must pass `workerUrl` to its emitted worker.

import { UserError } from '../../errors.js';
import { createLogger } from '../../log.js';
import type { PreprocessStep } from '../transforms/pipeline.js';
import { Volume } from '../volume.js';
import { compileWasmModule, type WasmSource } from './loader.js';
import {
  fromMessage,
  toMessage,
  type RequestMessage,
  type ResponseMessage,
  type TaskInput,
} from './protocol.js';

const log = createLogger('pool');
const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);

export interface PoolOptions {
  /** Number of workers; default: available cores minus one, at least 1. */
  size?: number;
  /** The Wasm module or where to read it; default build/clinicadl.wasm. */
  wasm?: WasmSource;
  /** The worker script; default node-worker or worker next to this file. */
  workerUrl?: URL;
}

/** One image to preprocess: a file path (Node), file bytes, or a decoded volume. */
export interface PoolTask {
  input: string | Volume | ArrayBuffer | Uint8Array | Blob;
  steps: readonly PreprocessStep[];
  /** Name used in errors; default the path, or 'volume <index>'. */
  name?: string;
}

/** The thread behind a worker, with the calls that differ between Node and browsers. */
interface WorkerHandle {
  post(message: RequestMessage): void;
  terminate(): Promise<void>;
}

interface PendingTask {
  id: number;
  name: string;
  message: RequestMessage;
  resolve(volume: Volume): void;
  reject(error: Error): void;
}

interface Slot {
  handle: WorkerHandle;
  task: PendingTask | null;
  ready: boolean;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: PendingTask[] = [];
  private nextId = 0;
  private closed = false;
  private readyWaiters: { resolve(): void; reject(error: Error): void; slot: Slot }[] = [];

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly workerUrl: URL,
  ) {}

  /** Starts `size` workers and resolves once each has loaded the image kernels. */
  static async create(options: PoolOptions = {}): Promise<WorkerPool> {
    const size = options.size ?? (await defaultPoolSize());
    if (!Number.isInteger(size) || size < 1) {
      throw new UserError(`Worker pool size ${size} is invalid: expected an integer >= 1.`);
    }
    const module = await compileWasmModule(options.wasm);
    const pool = new WorkerPool(module, options.workerUrl ?? defaultWorkerUrl());
    try {
      await Promise.all(Array.from({ length: size }, () => pool.startWorker()));
    } catch (error) {
      await pool.terminate();
      throw error;
    }
    log.debug(`started ${size} worker(s) from ${pool.workerUrl.href}`);
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /** Runs one task on the first free worker. */
  run(task: PoolTask, index = 0): Promise<Volume> {
    if (this.closed) return Promise.reject(new Error('The worker pool is terminated.'));
    const name = task.name ?? (typeof task.input === 'string' ? task.input : `volume ${index}`);
    const id = this.nextId++;
    const message: RequestMessage = {
      type: 'run',
      id,
      name,
      input: toInput(task.input),
      steps: [...task.steps],
    };
    return new Promise<Volume>((resolve, reject) => {
      this.queue.push({ id, name, message, resolve, reject });
      this.dispatch();
    });
  }

  /** Runs every task and returns the results in task order; rejects on the first failure. */
  map(tasks: readonly PoolTask[]): Promise<Volume[]> {
    return Promise.all(tasks.map((task, index) => this.run(task, index)));
  }

  /** Stops every worker; queued and running tasks reject. */
  async terminate(): Promise<void> {
    this.closed = true;
    const error = new Error('The worker pool was terminated before the task finished.');
    for (const task of this.queue.splice(0)) task.reject(error);
    for (const slot of this.slots) slot.task?.reject(error);
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(error);
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((slot) => slot.handle.terminate()));
  }

  private async startWorker(): Promise<void> {
    const slot: Slot = { handle: undefined as unknown as WorkerHandle, task: null, ready: false };
    slot.handle = await spawnWorker(
      this.workerUrl,
      (message) => this.onMessage(slot, message),
      (error) => this.onFailure(slot, error),
    );
    if (this.closed) {
      await slot.handle.terminate();
      throw new Error('The worker pool was terminated while a worker started.');
    }
    const ready = new Promise<void>((resolve, reject) => {
      this.readyWaiters.push({ resolve, reject, slot });
    });
    this.slots.push(slot);
    slot.handle.post({ type: 'init', module: this.module });
    return ready;
  }

  private onMessage(slot: Slot, message: ResponseMessage): void {
    if (message.type === 'ready') {
      slot.ready = true;
      this.takeWaiter(slot)?.resolve();
      this.dispatch();
      return;
    }
    if (message.type === 'error' && message.id === -1) {
      this.removeSlot(slot);
      const error = new Error(`A worker failed to load the Wasm image kernels: ${message.message}`);
      this.takeWaiter(slot)?.reject(error);
      return;
    }
    const task = slot.task;
    if (task === null || task.id !== message.id) return;
    slot.task = null;
    if (message.type === 'result') task.resolve(fromMessage(message.volume));
    else task.reject(taskError(task.name, message.errorName, message.message));
    this.dispatch();
  }

  /**
   * Fails the task of a worker that died (uncaught error or exit). A worker that was serving
   * tasks is replaced; one that died while starting is not, because its replacement would too.
   */
  private onFailure(slot: Slot, error: Error): void {
    if (!this.slots.includes(slot)) return;
    this.removeSlot(slot);
    this.takeWaiter(slot)?.reject(new Error(`A worker failed to start: ${error.message}`));
    const task = slot.task;
    if (task)
      task.reject(
        new Error(`Preprocessing ${task.name} failed: the worker died (${error.message}).`),
      );
    if (this.closed || !slot.ready) return;
    log.warn(`a worker died (${error.message}); starting a replacement`);
    this.startWorker().catch((startError: Error) => {
      if (this.closed) return;
      log.error(`the replacement worker failed: ${startError.message}`);
      if (this.slots.length > 0) return;
      for (const queued of this.queue.splice(0)) queued.reject(startError);
    });
  }

  private removeSlot(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    void slot.handle.terminate();
  }

  private takeWaiter(slot: Slot): { resolve(): void; reject(error: Error): void } | undefined {
    const index = this.readyWaiters.findIndex((waiter) => waiter.slot === slot);
    return index >= 0 ? this.readyWaiters.splice(index, 1)[0] : undefined;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.task !== null) continue;
      const task = this.queue.shift();
      if (task === undefined) return;
      slot.task = task;
      slot.handle.post(task.message);
    }
  }
}

function toInput(input: PoolTask['input']): TaskInput {
  if (typeof input === 'string') {
    if (!isNode)
      throw new UserError(`Cannot read ${input} by path in a browser: pass the file's bytes.`);
    return { kind: 'path', path: input };
  }
  if (input instanceof Volume) return { kind: 'volume', volume: toMessage(input) };
  return { kind: 'bytes', bytes: input };
}

function taskError(name: string, errorName: string, message: string): Error {
  const text = `Preprocessing ${name} failed: ${message}`;
  return errorName === 'UserError' ? new UserError(text) : new Error(text);
}

function defaultWorkerUrl(): URL {
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(isNode ? `./node-worker.${extension}` : `./worker.${extension}`, import.meta.url);
}

async function defaultPoolSize(): Promise<number> {
  if (!isNode) return Math.max(1, (globalThis.navigator?.hardwareConcurrency ?? 2) - 1);
  const osModule = 'node:os';
  const os = (await import(osModule)) as typeof import('node:os');
  return Math.max(1, os.availableParallelism() - 1);
}

async function spawnWorker(
  url: URL,
  onMessage: (message: ResponseMessage) => void,
  onFailure: (error: Error) => void,
): Promise<WorkerHandle> {
  if (isNode) {
    const threadsModule = 'node:worker_threads';
    const { Worker } = (await import(threadsModule)) as typeof import('node:worker_threads');
    const worker = new Worker(url);
    worker.on('message', onMessage);
    worker.on('error', onFailure);
    worker.on('exit', (code) => {
      if (code !== 0) onFailure(new Error(`worker exited with code ${code}`));
    });
    return {
      post: (message) => worker.postMessage(message),
      terminate: async () => {
        worker.removeAllListeners('exit');
        await worker.terminate();
      },
    };
  }
  const worker = new Worker(url, { type: 'module' });
  worker.addEventListener('message', (event: MessageEvent<ResponseMessage>) =>
    onMessage(event.data),
  );
  worker.addEventListener('error', (event) =>
    onFailure(new Error(event.message || 'worker error')),
  );
  return {
    post: (message) => worker.postMessage(message),
    terminate: async () => worker.terminate(),
  };
}
