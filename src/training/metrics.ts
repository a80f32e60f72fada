// Validation metrics by name, computed from evaluated batches with src/metrics. Each metric
// states whether lower or higher is better, which best-model selection and early stopping use.

import { UserError } from '../errors.js';
import { closestName } from '../graph/suggest.js';
import { classificationMetrics, psnr, regressionMetrics, rocAuc, ssim } from '../metrics/index.js';
import { dice } from '../metrics/segmentation.js';
import type { EvaluatedBatch } from '../models/model.js';

export type MetricMode = 'min' | 'max';

/** Everything a metric reads: outputs, labels and per-sample losses of a whole split. */
export interface EvaluationResults {
  /** Output rows, each flattened. */
  outputs: Float32Array[];
  /** Label rows (class, value or mask), or undefined without a label field. */
  labels: (Float32Array | Int32Array)[] | undefined;
  /** Per-sample losses by loss name. */
  losses: Record<string, number[]>;
  /** Shape of one output row, without the batch axis ([C, D, H, W] for an image). */
  rowShape: number[];
  /** Input image rows, kept only without a label field (a reconstruction model's target). */
  inputs: Float32Array[] | undefined;
}

interface MetricDefinition {
  mode: MetricMode;
  compute(results: EvaluationResults): number;
}

const argmax = (row: Float32Array) => row.reduce((best, v, i) => (v > row[best]! ? i : best), 0);

function classes(results: EvaluationResults) {
  const labels = requireLabels(results).map((row) => row[0]!);
  const predictions = results.outputs.map(argmax);
  return { labels, predictions, numClasses: results.outputs[0]?.length ?? 0 };
}

function requireLabels(results: EvaluationResults) {
  if (!results.labels) throw new UserError('This metric needs labels, and the batches have none.');
  return results.labels;
}

const classification = (
  key:
    | 'accuracy'
    | 'balancedAccuracy'
    | 'sensitivity'
    | 'specificity'
    | 'precision'
    | 'npv'
    | 'f1'
    | 'mcc',
): MetricDefinition => ({
  mode: 'max',
  compute(results) {
    const { labels, predictions, numClasses } = classes(results);
    return classificationMetrics(labels, predictions, numClasses)[key];
  },
});

const regression = (key: 'mae' | 'mse' | 'rmse' | 'r2'): MetricDefinition => ({
  mode: key === 'r2' ? 'max' : 'min',
  compute(results) {
    const truth = requireLabels(results).flatMap((row) => [...row]);
    const predicted = results.outputs.flatMap((row) => [...row]);
    return regressionMetrics(truth, predicted)[key];
  },
});

/**
 * Returns the target of each output row for image metrics: the label rows when the batches
 * have labels, else the input images (a reconstruction model's target).
 */
function imageTargets(results: EvaluationResults): ArrayLike<number>[] {
  const targets = results.labels ?? results.inputs;
  if (!targets) {
    throw new UserError(
      'PSNR and SSIM compare the output with the label or, without a label field, with the ' +
        'input image, and the batches have neither.',
    );
  }
  results.outputs.forEach((row, index) => {
    if (targets[index]!.length === row.length) return;
    throw new UserError(
      `PSNR and SSIM need a target of the output's size: sample ${index} has ${row.length} ` +
        `output values and ${targets[index]!.length} target values.`,
    );
  });
  return targets;
}

/** Returns the [D, H, W] grid of one channel of an output row, padding missing axes with 1. */
function channelGrid(rowShape: readonly number[]): { channels: number; grid: number[] } {
  const [channels = 1, ...spatial] = rowShape;
  if (spatial.length === 0 || spatial.length > 3) {
    throw new UserError(
      `SSIM needs outputs of shape [N, C, D, H, W], [N, C, H, W] or [N, C, L], got rows of ` +
        `shape [${rowShape.join(', ')}].`,
    );
  }
  return { channels, grid: [...spatial, 1, 1].slice(0, 3) };
}

/** Returns max - min over every target value; throws a UserError when it is not positive. */
function dataRange(targets: readonly ArrayLike<number>[]): number {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const target of targets) {
    for (let i = 0; i < target.length; i++) {
      low = Math.min(low, target[i]!);
      high = Math.max(high, target[i]!);
    }
  }
  if (high > low) return high - low;
  throw new UserError(
    `PSNR and SSIM need targets that are not all equal, and every target value is ${low}; ` +
      'validate on images with contrast.',
  );
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

const METRICS: Record<string, MetricDefinition> = {
  accuracy: classification('accuracy'),
  balancedAccuracy: classification('balancedAccuracy'),
  sensitivity: classification('sensitivity'),
  specificity: classification('specificity'),
  precision: classification('precision'),
  npv: classification('npv'),
  f1: classification('f1'),
  mcc: classification('mcc'),
  /** Binary ROC-AUC of the class-1 score. */
  rocAuc: {
    mode: 'max',
    compute(results) {
      const labels = requireLabels(results).map((row) => row[0]!);
      return rocAuc(
        labels,
        results.outputs.map((row) => row[row.length - 1]!),
      );
    },
  },
  mae: regression('mae'),
  mse: regression('mse'),
  rmse: regression('rmse'),
  r2: regression('r2'),
  /**
   * Mean over samples of the PSNR in dB of each output row against its target. The data range
   * is that of all targets (max - min over the set), so one constant patch is no error.
   */
  psnr: {
    mode: 'max',
    compute(results) {
      const targets = imageTargets(results);
      const range = dataRange(targets);
      return mean(results.outputs.map((row, index) => psnr(targets[index]!, row, range)));
    },
  },
  /**
   * Mean over samples and channels of the SSIM (Gaussian window of sigma 1.5, side up to 11)
   * of each output channel against its target, with the data range of all targets.
   */
  ssim: {
    mode: 'max',
    compute(results) {
      const targets = imageTargets(results);
      const { channels, grid } = channelGrid(results.rowShape);
      const voxels = grid[0]! * grid[1]! * grid[2]!;
      const options = { dataRange: dataRange(targets) };
      const scores = results.outputs.flatMap((row, index) => {
        const target = Float32Array.from(targets[index]!);
        return Array.from({ length: channels }, (_, c) => {
          const part = (data: Float32Array) => data.subarray(c * voxels, (c + 1) * voxels);
          return ssim(part(target), part(row), grid, options);
        });
      });
      return mean(scores);
    },
  },
  /** Mean Dice of the foreground (label > 0) against argmax of the output over channels. */
  dice: {
    mode: 'max',
    compute(results) {
      const labels = requireLabels(results);
      const scores = results.outputs.map((row, index) => {
        const voxels = labels[index]!.length;
        const channels = row.length / voxels;
        const predicted = new Float32Array(voxels);
        for (let v = 0; v < voxels; v++) {
          let best = 0;
          for (let c = 1; c < channels; c++) {
            if (row[c * voxels + v]! > row[best * voxels + v]!) best = c;
          }
          predicted[v] = best > 0 ? 1 : 0;
        }
        return dice(
          labels[index]!.map((value) => (value > 0 ? 1 : 0)),
          predicted,
        );
      });
      return scores.reduce((a, b) => a + b, 0) / scores.length;
    },
  },
};

export const METRIC_NAMES = Object.keys(METRICS);

/** Returns whether lower or higher is better for `name`; losses are minimised. */
export function metricMode(name: string, lossNames: readonly string[]): MetricMode {
  if (lossNames.includes(name)) return 'min';
  return definition(name, lossNames).mode;
}

function definition(name: string, lossNames: readonly string[]): MetricDefinition {
  const metric = METRICS[name];
  if (metric) return metric;
  const known = [...lossNames, ...METRIC_NAMES];
  const suggestion = closestName(name, known);
  throw new UserError(
    `Unknown metric '${name}'.` +
      (suggestion ? ` Did you mean '${suggestion}'?` : '') +
      ` Available: ${known.join(', ')}.`,
  );
}

/** Computes `names` on `results`; loss names give the mean per-sample loss. */
export function computeMetrics(
  names: readonly string[],
  results: EvaluationResults,
): Record<string, number> {
  const values: Record<string, number> = {};
  const lossNames = Object.keys(results.losses);
  for (const name of names) {
    const losses = results.losses[name];
    values[name] = losses
      ? losses.reduce((a, b) => a + b, 0) / losses.length
      : definition(name, lossNames).compute(results);
  }
  return values;
}

/**
 * Collects evaluated batches into per-sample rows. Without a `labelKey`, the `imageKey` field
 * is kept as the target of PSNR and SSIM.
 */
export function collectResults(
  batches: EvaluatedBatch[],
  labelKey: string | undefined,
  imageKey = 'image',
) {
  const results: EvaluationResults = {
    outputs: [],
    labels: labelKey ? [] : undefined,
    losses: {},
    rowShape: batches[0]?.outputShape.slice(1) ?? [],
    inputs: labelKey ? undefined : [],
  };
  for (const evaluated of batches) {
    const { batch, output, outputShape, losses } = evaluated;
    const perRow = output.length / Math.max(1, outputShape[0]!);
    for (let row = 0; row < batch.size; row++) {
      results.outputs.push(output.slice(row * perRow, (row + 1) * perRow));
    }
    const image = results.inputs ? batch.fields[imageKey] : undefined;
    if (results.inputs && image instanceof Float32Array) {
      const perImage = image.length / batch.size;
      for (let row = 0; row < batch.size; row++) {
        results.inputs.push(image.subarray(row * perImage, (row + 1) * perImage));
      }
    } else results.inputs = undefined;
    const label = labelKey ? batch.fields[labelKey] : undefined;
    if (results.labels && label) {
      const perLabel = label.length / batch.size;
      for (let row = 0; row < batch.size; row++) {
        results.labels.push(label.slice(row * perLabel, (row + 1) * perLabel));
      }
    } else results.labels = undefined;
    for (const [name, values] of Object.entries(losses)) {
      (results.losses[name] ??= []).push(...values);
    }
  }
  return results;
}
