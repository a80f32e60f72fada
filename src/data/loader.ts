// The loader: a BatchSource over a Dataset. It preprocesses images in a worker pool or in the
// calling thread, and caches the preprocessed samples on disk and the recently used ones in
// memory. It shuffles by (seed, epoch) and, in training, augments each sample with a seed of
// (seed, epoch, sample). The next batches are prepared while the current one is consumed.

import { UserError } from '../errors.js';
import { createLogger } from '../log.js';
import type { Batch, BatchSource } from './batch.js';
import { TensorCache, type CachedSample } from './cache.js';
import type { Dataset } from './dataset.js';
import { augmentSample, prepareImage, settleInOrder } from './loader-prepare.js';
import { createRunner, type PipelineRunner } from './loader-runner.js';
import { identityOrder, sampleSeed, shuffledOrder } from './loader-order.js';
import { collate, type Sample } from './sample.js';
import type { WorkerPool } from './wasm/pool.js';

export { sampleSeed, shuffledOrder } from './loader-order.js';

const log = createLogger('loader');

export interface LoaderOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Seed of the shuffling and the augmentations; default 0. */
  seed?: number;
  /** Applies the dataset's augmentations (training mode); default false. */
  training?: boolean;
  /**
   * Preprocessing threads: 0 for the calling thread, n for n new workers, or a WorkerPool to
   * share. Default 0.
   */
  workers?: number | WorkerPool;
  /** Folder of the disk cache of preprocessed samples; default none (no disk cache). */
  cacheFolder?: string;
  /** Batches prepared ahead of the one being consumed; default 2. */
  prefetch?: number;
  /** Preprocessed images kept in memory, the least recently used dropped first; default 16. */
  memoryImages?: number;
}

/** Counts of the loader's image preparations since it was created. */
export interface LoaderStatistics {
  /** Images read from the disk cache. */
  cacheHits: number;
  /** Images preprocessed from their files. */
  preprocessed: number;
}

export class DataLoader implements BatchSource {
  readonly batchSize: number;
  readonly length: number;
  readonly statistics: LoaderStatistics = { cacheHits: 0, preprocessed: 0 };
  private readonly memory = new Map<number, Promise<CachedSample[]>>();
  /** Preparations in progress, so the samples of one image share one preparation. */
  private readonly inflight = new Map<number, Promise<CachedSample[]>>();

  private constructor(
    readonly dataset: Dataset,
    private readonly runner: PipelineRunner,
    private readonly cache: TensorCache | null,
    private readonly options: Required<Omit<LoaderOptions, 'workers' | 'cacheFolder'>>,
    /** Samples cut from each image, and their shapes, from the first image. */
    private readonly layout: { count: number; shapes: Record<string, number[]> },
  ) {
    this.batchSize = options.batchSize;
    this.length = dataset.length * layout.count;
  }

  /** Creates a loader; it prepares the first image to learn the number of samples per image. */
  static async create(dataset: Dataset, options: LoaderOptions): Promise<DataLoader> {
    const settings = checkOptions(options);
    if (dataset.length === 0) {
      throw new UserError(
        `Dataset ${dataset.config.tsv} has no rows; a loader needs at least one image.`,
      );
    }
    const runner = await createRunner(options.workers ?? 0, {
      maxBytes: dataset.config.maxBytes,
    });
    const cache = options.cacheFolder === undefined ? null : new TensorCache(options.cacheFolder);
    try {
      const first = await prepareImage(
        runner,
        dataset.records[0]!,
        dataset.config.transforms,
        cache,
      );
      const layout = { count: first.samples.length, shapes: first.samples[0]!.shapes };
      const loader = new DataLoader(dataset, runner, cache, settings, layout);
      loader.count(first.cached);
      loader.remember(0, Promise.resolve(first.samples));
      return loader;
    } catch (error) {
      await runner.close();
      throw error;
    }
  }

  /** Samples cut from each image: 1 in image mode, else the patch or slice count. */
  get samplesPerImage(): number {
    return this.layout.count;
  }

  /** Yields the batches of one epoch; the last one may hold fewer than batchSize samples. */
  async *batches(epoch: number, shuffle: boolean): AsyncIterable<Batch> {
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new UserError(`Epoch ${epoch} is invalid: expected an integer >= 0.`);
    }
    const order = shuffle
      ? shuffledOrder(this.length, this.options.seed, epoch)
      : identityOrder(this.length);
    const starts: number[] = [];
    for (let start = 0; start < order.length; start += this.batchSize) starts.push(start);
    const pending: Promise<Batch>[] = [];
    const queue = (position: number) => {
      const start = starts[position];
      if (start === undefined) return;
      const batch = this.batch(order.slice(start, start + this.batchSize), epoch);
      // Rejections surface when the batch is awaited, not as unhandled rejections before.
      batch.catch(() => {});
      pending.push(batch);
    };
    for (let position = 0; position <= this.options.prefetch; position++) queue(position);
    for (let position = 0; position < starts.length; position++) {
      const batch = await pending.shift()!;
      queue(position + this.options.prefetch + 1);
      yield batch;
    }
  }

  /**
   * Returns sample `index` (image-major: all samples of image 0 first) as it is in `epoch`.
   * Without augmentation its arrays are those the loader keeps in memory, so copy before writing.
   */
  async sample(index: number, epoch = 0): Promise<Sample> {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new UserError(
        `Sample index ${index} is out of range: the loader has ${this.length} samples.`,
      );
    }
    const imageIndex = Math.floor(index / this.layout.count);
    const record = this.dataset.records[imageIndex]!;
    const prepared = (await this.image(imageIndex))[index % this.layout.count]!;
    const augmentation = this.dataset.config.transforms.augmentation;
    const fields: Sample['fields'] =
      this.options.training && augmentation
        ? await augmentSample(
            this.runner,
            prepared,
            augmentation,
            sampleSeed(this.options.seed, epoch, index),
            record.paths.image!,
          )
        : { ...prepared.fields };
    const shapes = { ...prepared.shapes };
    for (const [field, value] of Object.entries(record.labels)) {
      const isClass = field in this.dataset.classes;
      fields[field] = isClass ? Int32Array.of(value) : Float32Array.of(value);
      shapes[field] = isClass ? [] : [1];
    }
    const ids = {
      participant_id: record.participant_id,
      session_id: record.session_id,
      metadata: record.row,
    };
    return this.dataset.config.transforms.extraction.mode !== 'image'
      ? { ...ids, index: index % this.layout.count, fields, shapes }
      : { ...ids, fields, shapes };
  }

  /** Stops the workers the loader started. */
  async close(): Promise<void> {
    this.memory.clear();
    await this.runner.close();
  }

  private async batch(indices: readonly number[], epoch: number): Promise<Batch> {
    const samples = await settleInOrder(indices.map((index) => this.sample(index, epoch)));
    return collate(samples);
  }

  // NOTE: an image is prepared and cached whole, so a shuffled batch of patches or slices from
  // images no longer in memory reads each of those images' cache files in full.
  private image(imageIndex: number): Promise<CachedSample[]> {
    const held = this.memory.get(imageIndex);
    if (held !== undefined) {
      this.remember(imageIndex, held);
      return held;
    }
    const running = this.inflight.get(imageIndex);
    if (running !== undefined) return running;
    const record = this.dataset.records[imageIndex]!;
    const prepared = prepareImage(
      this.runner,
      record,
      this.dataset.config.transforms,
      this.cache,
    ).then(({ samples, cached }) => {
      this.count(cached);
      this.checkLayout(samples, record.paths.image!);
      return samples;
    });
    this.inflight.set(imageIndex, prepared);
    // A failed preparation is not kept, so a later epoch tries again.
    prepared.then(
      () => this.remember(imageIndex, prepared),
      () => {},
    );
    void prepared.finally(() => this.inflight.delete(imageIndex)).catch(() => {});
    return prepared;
  }

  /** Keeps an image's samples as the most recently used, dropping the oldest beyond the limit. */
  private remember(imageIndex: number, samples: Promise<CachedSample[]>): void {
    this.memory.delete(imageIndex);
    if (this.options.memoryImages === 0) return;
    this.memory.set(imageIndex, samples);
    while (this.memory.size > this.options.memoryImages) {
      this.memory.delete(this.memory.keys().next().value!);
    }
  }

  private count(cached: boolean): void {
    if (cached) this.statistics.cacheHits++;
    else this.statistics.preprocessed++;
  }

  private checkLayout(samples: readonly CachedSample[], path: string): void {
    const expected = describeLayout(this.layout.count, this.layout.shapes);
    const found = describeLayout(samples.length, samples[0]?.shapes ?? {});
    if (found === expected) return;
    const first = this.dataset.records[0]!.paths.image;
    throw new UserError(
      `${path} gives ${found} after preprocessing, but ${first} gives ${expected}; batches need ` +
        'one shape, so add a cropOrPad (or resample) step to the image transforms.',
    );
  }
}

function describeLayout(count: number, shapes: Record<string, number[]>): string {
  const fields = Object.entries(shapes).map(([name, shape]) => `${name} [${shape.join(', ')}]`);
  return `${count} sample(s) of ${fields.join(', ')}`;
}

function checkOptions(options: LoaderOptions): DataLoader['options'] {
  const settings = {
    batchSize: options.batchSize,
    seed: options.seed ?? 0,
    training: options.training ?? false,
    prefetch: options.prefetch ?? 2,
    memoryImages: options.memoryImages ?? 16,
  };
  const integers: [string, number, number][] = [
    ['batchSize', settings.batchSize, 1],
    ['seed', settings.seed, 0],
    ['prefetch', settings.prefetch, 0],
    ['memoryImages', settings.memoryImages, 0],
  ];
  for (const [name, value, min] of integers) {
    if (Number.isInteger(value) && value >= min) continue;
    throw new UserError(
      `Loader option ${name} ${value} is invalid: expected an integer >= ${min}.`,
    );
  }
  if (
    typeof options.workers === 'number' &&
    !(Number.isInteger(options.workers) && options.workers >= 0)
  ) {
    throw new UserError(
      `Loader option workers ${options.workers} is invalid: expected an integer >= 0 or a ` +
        'WorkerPool.',
    );
  }
  log.debug(`loader settings ${JSON.stringify(settings)}`);
  return settings;
}
