// The base of every loss: its reduction, the form of its target, the host-side preparation of
// labels into that target, and the IR it appends to a graph. Subclasses give the unreduced
// loss, and this class applies 'mean', 'sum' or 'none'. Optional batch-row weights make the
// rows that pad a short last batch count for nothing.

import { UserError } from '../errors.js';
import { numElements, type Graph, type Shape, type Value } from '../graph/ir.js';
import { Tensor } from './tensor.js';

export type LossReduction = 'mean' | 'sum' | 'none';

/**
 * Form of the target a loss compares the output with. 'index': i32 class indices shaped as
 * the output without its class axis. 'dense': f32 shaped as the output. 'onehot': i32 class
 * indices on the host, one-hot encoded into a dense f32 target before upload.
 */
export type TargetKind = 'index' | 'dense' | 'onehot';

export interface AppendOptions {
  /**
   * f32 [N] weight of each batch row (see rowWeights); padded rows get 0. Without it every
   * row counts, as in PyTorch.
   */
  rowWeight?: Value;
}

export interface LabelData {
  /** Name of the batch field, for error messages. */
  key: string;
  data: Float32Array | Int32Array;
  /** Shape of the field, batch axis first. */
  shape: readonly number[];
  /** Real rows in the batch; rows from `size` to the output's batch size are padding. */
  size: number;
}

export abstract class LossConfig<F extends { reduction: string } = { reduction: string }> {
  abstract readonly name: string;
  abstract readonly target: TargetKind;

  protected constructor(readonly fields: Readonly<F>) {}

  get reduction(): F['reduction'] {
    return this.fields.reduction;
  }

  /** Returns the config as JSON with every default filled in, plus the loss name. */
  toJSON(): { name: string } & F {
    return { name: this.name, ...structuredClone(this.fields as F) };
  }

  /** A copy with another reduction ('none' gives per-element losses for validation). */
  abstract withReduction(reduction: LossReduction): LossConfig;

  /** The unreduced loss: batch axis first, any further axes. */
  protected abstract unreduced(output: Tensor, target: Tensor): Tensor;

  /** Sum over rows of weight(row) * per-row loss, or the plain reduction without weights. */
  protected reduce(loss: Tensor, reduction: string, rowWeight?: Value): Tensor {
    if (reduction === 'none') return loss;
    const perRow = loss.rank > 1 ? loss.sum(range(1, loss.rank)) : loss;
    const count = loss.rank > 1 ? numElements(loss.shape.slice(1)) : 1;
    const batch = loss.shape[0] ?? 1;
    if (rowWeight) {
      const weighted = reduction === 'mean' ? perRow.mul(1 / count) : perRow;
      return weighted.mul(loss.wrap(rowWeight)).sum();
    }
    if (reduction === 'mean') return loss.mean();
    if (reduction === 'batchmean') return perRow.sum().mul(1 / batch);
    return loss.sum();
  }

  /**
   * Appends the loss of `output` against `target` (both values of `graph`) and returns it: a
   * scalar, or the unreduced loss for reduction 'none'.
   */
  appendLoss(graph: Graph, output: Value, target: Value, options: AppendOptions = {}): Value {
    const loss = this.unreduced(new Tensor(graph, output), new Tensor(graph, target));
    return this.reduce(loss, this.reduction, options.rowWeight).value;
  }

  /** Appends the loss of each batch row, [N]: the row mean of the unreduced loss. */
  appendPerRow(graph: Graph, output: Value, target: Value): Value {
    const loss = this.unreduced(new Tensor(graph, output), new Tensor(graph, target));
    return loss.rank > 1 ? loss.mean(range(1, loss.rank)).value : loss.value;
  }

  /**
   * Returns the rowWeight data for `size` real rows padded to `batchSize`: 1 / size for mean
   * reductions, 1 for sums, 0 for padding.
   */
  rowWeights(size: number, batchSize: number): Float32Array {
    const weights = new Float32Array(batchSize);
    const mean = this.reduction === 'mean' || this.reduction === 'batchmean';
    weights.fill(mean ? 1 / size : 1, 0, size);
    return weights;
  }

  /** Shape and dtype of the target input for a network output of shape `output`. */
  targetSpec(output: Shape): { shape: number[]; dtype: 'f32' | 'i32' } {
    if (this.target === 'index') return { shape: [output[0]!, ...output.slice(2)], dtype: 'i32' };
    return { shape: [...output], dtype: 'f32' };
  }

  /** Value written into the target of padded rows. */
  protected paddingIndex(): number {
    return 0;
  }

  /**
   * Converts a batch's label field into this loss's target for an output of shape `output`,
   * padding rows past `label.size`. Throws a UserError naming the field and the row when the
   * label does not fit.
   */
  prepareTarget(label: LabelData, output: Shape): Float32Array | Int32Array {
    const spec = this.targetSpec(output);
    const perRow = numElements(spec.shape.slice(1));
    const classes = output[1] ?? 1;
    const labelPerRow = numElements(label.shape.slice(1));
    const expectedPerRow = this.target === 'dense' ? perRow : numElements(output.slice(2));
    if (labelPerRow !== expectedPerRow) {
      // Per sample: the output's batch axis is the padded batch size, the label's is the
      // number of samples.
      throw new UserError(
        `Label '${label.key}' has ${labelPerRow} value(s) per sample, but ${this.name} needs ` +
          `${expectedPerRow} per sample for a network output of shape ` +
          `[${output.slice(1).join(', ')}] per sample. Check labelKey and the network's ` +
          `number of outputs.`,
      );
    }
    const rows = label.size;
    if (this.target === 'dense') {
      const target = new Float32Array(numElements(spec.shape));
      target.set(label.data.subarray(0, rows * perRow));
      checkFinite(label, target.subarray(0, rows * perRow), perRow, this.name);
      return target;
    }
    const indices = classIndices(label, rows * expectedPerRow, expectedPerRow, this, classes);
    if (this.target === 'index') {
      const target = new Int32Array(numElements(spec.shape)).fill(this.paddingIndex());
      target.set(indices);
      return target;
    }
    return oneHot(indices, rows, expectedPerRow, classes, numElements(spec.shape));
  }

  /** Returns whether `index` is a valid target outside [0, classes): the ignore index. */
  acceptsIndex(_index: number): boolean {
    return false;
  }
}

function checkFinite(label: LabelData, values: Float32Array, perRow: number, loss: string) {
  const bad = values.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) {
    throw new UserError(
      `Label '${label.key}' of batch row ${Math.floor(bad / perRow)} is ${values[bad]}; ` +
        `${loss} needs finite numbers. Fix or remove that sample's label.`,
    );
  }
}

function classIndices(
  label: LabelData,
  count: number,
  perRow: number,
  loss: LossConfig,
  classes: number,
): Int32Array {
  const indices = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const value = label.data[i]!;
    const valid = Number.isInteger(value) && value >= 0 && value < classes;
    if (!valid && !(Number.isInteger(value) && loss.acceptsIndex(value))) {
      throw new UserError(
        `Label '${label.key}' of batch row ${Math.floor(i / perRow)} is ${value}, but ` +
          `${loss.name} needs a class index in [0, ${classes - 1}] (the network has ` +
          `${classes} outputs). Encode the labels as integers 0..${classes - 1}.`,
      );
    }
    indices[i] = value;
  }
  return indices;
}

function oneHot(
  indices: Int32Array,
  rows: number,
  perRow: number,
  classes: number,
  total: number,
): Float32Array {
  const target = new Float32Array(total);
  for (let row = 0; row < rows; row++) {
    for (let i = 0; i < perRow; i++) {
      const k = indices[row * perRow + i]!;
      target[(row * classes + k) * perRow + i] = 1;
    }
  }
  return target;
}

export function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}
