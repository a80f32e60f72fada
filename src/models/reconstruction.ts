// ReconstructionModel: a SupervisedModel whose loss compares the network's output with its
// input, so batches need no label.

import type { Batch } from '../data/batch.js';
import { UserError } from '../errors.js';
import { numElements, type Graph, type Value } from '../graph/ir.js';
import type { CustomLoss } from '../losses/configs.js';
import { SupervisedModel, type SupervisedOptions } from './supervised.js';

/** A model whose loss compares the network's output with its input (an autoencoder). */
export class ReconstructionModel extends SupervisedModel {
  override readonly name: string = 'ReconstructionModel';

  constructor(
    options: Omit<SupervisedOptions, 'labelKey'>,
    customLosses: readonly CustomLoss[] = [],
  ) {
    super(options, customLosses);
    if (this.loss.target !== 'dense') {
      throw new UserError(
        `${this.loss.name} compares the output with class indices; a ReconstructionModel ` +
          `needs a loss that compares two images, such as MSELoss or L1Loss.`,
      );
    }
  }

  protected override targetValue(_graph: Graph, input: Value, output: Value): Value {
    if (input.shape.join() !== output.shape.join()) {
      throw new UserError(
        `A ReconstructionModel needs the network output to have the input's shape ` +
          `[${input.shape.join(', ')}], got [${output.shape.join(', ')}].`,
      );
    }
    return input;
  }

  protected override targetData(): undefined {
    return undefined;
  }

  protected override targetRow(batch: Batch, row: number, outputShape: number[]): Float32Array {
    const images = batch.fields[this.imageKey]!;
    const perRow = images.length / batch.size;
    if (perRow !== numElements(outputShape)) {
      throw new UserError(
        `The inferer's output [${outputShape.join(', ')}] does not match the input image; a ` +
          `ReconstructionModel needs an output of the input's shape.`,
      );
    }
    return Float32Array.from(images.subarray(row * perRow, (row + 1) * perRow));
  }

  override toJSON(): { name: string; [key: string]: unknown } {
    const { labelKey: _labelKey, ...rest } = super.toJSON();
    return rest;
  }
}
