// A BatchSource over samples held in memory, for a browser page that decoded and preprocessed
// its volumes itself. Batches are stacked in the calling thread, with no workers and no files.
// The epoch order is the file loader's shuffledOrder, so the same seed gives the same batches.
//
// Browser use with the Trainer:
//   const train = new MemoryLoader(samples, { batchSize: 2, seed: 0 });
//   await trainer.train({ train, validation: new MemoryLoader(held, { batchSize: 2 }) });
// where each sample is { image: Float32Array, shape: [C, D, H, W], label?: number,
// mask?: Float32Array }. Batches hold the fields 'image', 'label' and 'mask', so a
// SupervisedModel uses labelKey 'label' (classification, regression) or 'mask' (segmentation).

import { UserError } from '../errors.js';
import type { Batch, BatchSource } from './batch.js';
import { identityOrder, shuffledOrder } from './loader-order.js';
import { collate, type Sample } from './sample.js';

/** One sample of a MemoryLoader. */
export interface MemorySample {
  /** Channels-first image data, row-major. */
  image: Float32Array;
  /** Shape of `image` without a batch axis: [C, D, H, W], or [C, H, W] for a 2D network. */
  shape: readonly number[];
  /** Class index (labelKind 'class') or target value (labelKind 'float'); default none. */
  label?: number;
  /** Segmentation target on the image's grid, with one or more channels; default none. */
  mask?: Float32Array;
  /** Identifies the sample in predictions.tsv; default 'sample-<index>'. */
  participant_id?: string;
  /** Default ''. */
  session_id?: string;
}

export interface MemoryLoaderOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Seed of the shuffling; default 0. */
  seed?: number;
  /**
   * Storage of `label`, default 'class'. A 'class' label is an int32 of shape [], batched as [N]
   * for cross-entropy. A 'float' label is a float32 of shape [1], batched as [N, 1].
   */
  labelKind?: 'class' | 'float';
}

export class MemoryLoader implements BatchSource {
  readonly batchSize: number;
  readonly length: number;
  private readonly seed: number;
  private readonly samples: Sample[];

  /** Checks the samples and options; throws a UserError naming the first bad sample. */
  constructor(samples: readonly MemorySample[], options: MemoryLoaderOptions) {
    this.batchSize = checkInteger('batchSize', options.batchSize, 1);
    this.seed = checkInteger('seed', options.seed ?? 0, 0);
    const labelKind = options.labelKind ?? 'class';
    if (labelKind !== 'class' && labelKind !== 'float') {
      throw new UserError(
        `MemoryLoader option labelKind '${String(labelKind)}' is invalid: expected 'class' or ` +
          "'float'.",
      );
    }
    if (!Array.isArray(samples) || samples.length === 0) {
      throw new UserError('MemoryLoader needs at least one sample.');
    }
    this.samples = samples.map((sample, index) => toSample(sample, index, labelKind));
    this.samples.forEach((sample, index) => checkLike(this.samples[0]!, sample, index));
    this.length = samples.length;
  }

  /** Yields the batches of one epoch; the last one may hold fewer than batchSize samples. */
  async *batches(epoch: number, shuffle: boolean): AsyncIterable<Batch> {
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new UserError(`Epoch ${epoch} is invalid: expected an integer >= 0.`);
    }
    const order = shuffle
      ? shuffledOrder(this.length, this.seed, epoch)
      : identityOrder(this.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const rows = order.slice(start, start + this.batchSize);
      yield collate(rows.map((row) => this.samples[row]!));
    }
  }
}

function checkInteger(name: string, value: number, min: number): number {
  if (Number.isInteger(value) && value >= min) return value;
  throw new UserError(
    `MemoryLoader option ${name} ${value} is invalid: expected an integer >= ${min}.`,
  );
}

function toSample(sample: MemorySample, index: number, labelKind: 'class' | 'float'): Sample {
  const name = `MemoryLoader sample ${index}`;
  if (!(sample?.image instanceof Float32Array)) {
    throw new UserError(`${name}: image must be a Float32Array.`);
  }
  const shape = [...(sample.shape ?? [])];
  if (shape.length < 2 || !shape.every((size) => Number.isInteger(size) && size > 0)) {
    throw new UserError(
      `${name}: shape [${shape.join(', ')}] is invalid: expected [C, D, H, W] or [C, H, W] ` +
        'of positive integers.',
    );
  }
  const voxels = shape.reduce((product, size) => product * size, 1);
  if (sample.image.length !== voxels) {
    throw new UserError(
      `${name}: image has ${sample.image.length} values but shape [${shape.join(', ')}] ` +
        `holds ${voxels}.`,
    );
  }
  const fields: Sample['fields'] = { image: sample.image };
  const shapes: Sample['shapes'] = { image: shape };
  if (sample.label !== undefined) {
    fields.label = labelField(sample.label, labelKind, name);
    shapes.label = labelKind === 'class' ? [] : [1];
  }
  if (sample.mask !== undefined) {
    const spatial = shape.slice(1);
    const perChannel = voxels / shape[0]!;
    if (!(sample.mask instanceof Float32Array) || sample.mask.length % perChannel !== 0) {
      throw new UserError(
        `${name}: mask must be a Float32Array of whole channels on the image's grid ` +
          `[${spatial.join(', ')}] (a multiple of ${perChannel} values), got ` +
          `${sample.mask?.length} values.`,
      );
    }
    fields.mask = sample.mask;
    shapes.mask = [sample.mask.length / perChannel, ...spatial];
  }
  return {
    participant_id: sample.participant_id ?? `sample-${index}`,
    session_id: sample.session_id ?? '',
    fields,
    shapes,
    metadata: {},
  };
}

function labelField(label: number, kind: 'class' | 'float', name: string) {
  if (kind === 'float') {
    if (Number.isFinite(label)) return Float32Array.of(label);
    throw new UserError(`${name}: label ${label} is invalid: expected a finite number.`);
  }
  if (Number.isInteger(label) && label >= 0) return Int32Array.of(label);
  throw new UserError(
    `${name}: label ${label} is invalid: a class label is an integer >= 0 (or set labelKind ` +
      "'float' for regression).",
  );
}

/** Checks that `sample` has the fields and shapes of the first sample, as a batch needs. */
function checkLike(first: Sample, sample: Sample, index: number): void {
  const describe = (value: Sample) =>
    Object.entries(value.shapes)
      .map(([field, shape]) => `${field} [${shape.join(', ')}]`)
      .join(', ');
  if (describe(first) === describe(sample)) return;
  throw new UserError(
    `MemoryLoader sample ${index} has ${describe(sample)}, but sample 0 has ${describe(first)}; ` +
      'batches need one shape per field, so crop or pad the volumes to one size.',
  );
}
