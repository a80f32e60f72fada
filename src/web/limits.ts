// The page's message for a model that does not fit the adapter: the limit's own error (which
// names the tensor, its size and the limit) with the experiment and its input shape.

import { GpuLimitError } from '../errors.js';
import type { LoadedExperiment } from '../experiment/load.js';

/** Adds the model and what to do to an error about the adapter's limits. */
export async function explainLimits<T>(work: Promise<T>, experiment: LoadedExperiment): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof GpuLimitError)) throw error;
    throw new GpuLimitError(
      `This GPU's limits are too small for the model of ${experiment.files.name} (input ` +
        `[${experiment.inShape.join(', ')}]): ${error.message} In a browser, try one whose ` +
        'WebGPU adapter has larger limits (a desktop GPU rather than a software adapter).',
    );
  }
}
