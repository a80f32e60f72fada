// The page's side of the model worker: each call posts one request and resolves with its
// result, so the page awaits worker calls like local functions.

import type {
  ModelInfo,
  ModelSource,
  Overlay,
  Prediction,
  Request,
  Response,
  SavedExperiment,
  TrainingProgress,
  TrainingResult,
  TrainRequest,
} from './protocol.js';

/** A failure reported by the worker, with the original error's class name. */
export class WorkerError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = errorName;
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  onProgress?: (progress: TrainingProgress) => void;
}

/** Distributes the Omit over the union, so each request keeps its own fields. */
type RequestBody<R> = R extends Request ? Omit<R, 'id'> : never;

export class ModelClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(workerUrl: URL) {
    this.worker = new Worker(workerUrl, { type: 'module' });
    this.worker.addEventListener('message', (event: MessageEvent<Response>) =>
      this.receive(event.data),
    );
    this.worker.addEventListener('error', (event) => {
      const error = new WorkerError('Error', `The model worker failed: ${event.message}`);
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    });
  }

  load(source: ModelSource): Promise<ModelInfo> {
    return this.call({ type: 'load', source }) as Promise<ModelInfo>;
  }

  predict(file: Blob, name: string, image?: Blob): Promise<Prediction> {
    const body = { type: 'predict' as const, file, name, ...(image ? { image } : {}) };
    return this.call(body) as Promise<Prediction>;
  }

  saliency(target: number): Promise<Overlay> {
    return this.call({ type: 'saliency', target }) as Promise<Overlay>;
  }

  train(
    options: TrainRequest,
    onProgress: (progress: TrainingProgress) => void,
  ): Promise<TrainingResult> {
    return this.call({ type: 'train', options }, onProgress) as Promise<TrainingResult>;
  }

  save(): Promise<SavedExperiment> {
    return this.call({ type: 'save' }) as Promise<SavedExperiment>;
  }

  private call(
    body: RequestBody<Request>,
    onProgress?: (progress: TrainingProgress) => void,
  ): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(onProgress ? { onProgress } : {}) });
      this.worker.postMessage({ ...body, id } as Request);
    });
  }

  private receive(message: Response): void {
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'done') pending.resolve(message.result);
    else pending.reject(new WorkerError(message.error.name, message.error.message));
  }
}
