// The contract between the data side (datasets, loaders) and the models and Trainer: a batch
// of samples with named fields, and a source of batches for one split.

/** One batch of samples, every field stacked along a leading batch axis. */
export interface Batch {
  /** Field data by name ('image', 'label', 'mask', ...), row-major, batch axis first. */
  fields: Record<string, Float32Array | Int32Array>;
  /** Shape of each field, batch axis first: `[size, C, D, H, W]` for an image. */
  shapes: Record<string, number[]>;
  /**
   * Number of samples in the batch. The last batch of an epoch may hold fewer than the
   * source's batchSize. The model then pads it to its static batch size and leaves the padded
   * rows out of losses, metrics and predictions.
   */
  size: number;
  /** The sample of each row; `index` numbers patches or slices of one image. */
  ids: { participant_id: string; session_id: string; index?: number }[];
}

/** The batches of one split, for training or evaluation. */
export interface BatchSource {
  /** Samples per batch (every batch but the last has exactly this many). */
  batchSize: number;
  /** Number of samples in the source. */
  length: number;
  /**
   * Yields the batches of one epoch. With `shuffle`, the order depends only on the source's
   * seed and `epoch`, so a resumed run gets the same batches as an uninterrupted one.
   */
  batches(epoch: number, shuffle: boolean): AsyncIterable<Batch>;
}
