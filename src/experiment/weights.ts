// The weights of an experiment: split-<k>/best-<metric>/model.safetensors, checked against the
// network's parameters and buffers by state_dict name and shape.

import { UserError } from '../errors.js';
import { formatShape, type Graph } from '../graph/ir.js';
import { decodeSafetensors } from '../training/safetensors.js';
import type { ExperimentFiles } from './files.js';

export interface SelectedWeights {
  split: number;
  selection: string;
  weightsPath: string;
  weights: Map<string, Float32Array>;
}

/** Reads the weights of the chosen split and selection metric and checks them against `graph`. */
export async function readSelectedWeights(
  files: ExperimentFiles,
  experiment: Record<string, unknown>,
  graph: Graph,
  options: { selection?: string; split?: number },
): Promise<SelectedWeights> {
  const split = options.split ?? 0;
  if (!Number.isInteger(split) || split < 0) {
    throw new UserError(`Split ${split} is invalid: expected an integer >= 0.`);
  }
  const metrics = selectionMetrics(experiment);
  const selection = options.selection ?? metrics[0];
  if (selection === undefined) {
    throw new UserError(
      `${files.name}: experiment.json lists no trainer.selection metric; give one with ` +
        '--selection (a best-<metric> folder of the split).',
    );
  }
  const weightsPath = `split-${split}/best-${selection}/model.safetensors`;
  if (!files.has(weightsPath)) {
    const present = metrics.filter((m) => files.has(`split-${split}/best-${m}/model.safetensors`));
    const hint =
      present.length > 0
        ? `Weights exist for: ${present.join(', ')}; choose one with --selection.`
        : `No best-<metric> weights exist for split ${split}: training did not finish a ` +
          'validation, so train again.';
    throw new UserError(`${files.name} has no weights '${weightsPath}'. ${hint}`);
  }
  const bytes = await files.readBytes(weightsPath);
  const weights = checkWeights(bytes, `${files.name}/${weightsPath}`, graph);
  return { split, selection, weightsPath, weights };
}

function selectionMetrics(experiment: Record<string, unknown>): string[] {
  const trainer = experiment.trainer as { selection?: unknown } | undefined;
  const selection = trainer?.selection;
  return Array.isArray(selection) ? selection.map(String) : [];
}

/** Decodes safetensors bytes and checks every state value of `graph` is there with its shape. */
export function checkWeights(
  bytes: Uint8Array,
  source: string,
  graph: Graph,
): Map<string, Float32Array> {
  const tensors = decodeSafetensors(bytes, source).tensors;
  const expected = graph.stateValues();
  const problems: string[] = [];
  const weights = new Map<string, Float32Array>();
  for (const value of expected) {
    const tensor = tensors.get(value.name!);
    if (tensor === undefined) {
      problems.push(`'${value.name}' ${formatShape(value.shape)} is missing`);
    } else if (tensor.dtype !== 'F32') {
      problems.push(`'${value.name}' is ${tensor.dtype}, expected F32`);
    } else if (tensor.shape.join() !== value.shape.join()) {
      problems.push(
        `'${value.name}' has shape ${formatShape(tensor.shape)}, the network needs ` +
          formatShape(value.shape),
      );
    } else {
      weights.set(value.name!, tensor.data as Float32Array);
    }
  }
  const names = new Set(expected.map((value) => value.name!));
  const extra = [...tensors.keys()].filter((name) => !names.has(name));
  if (extra.length > 0) problems.push(`the network has no ${quoteList(extra)}`);
  if (problems.length > 0) {
    throw new UserError(
      `${source} does not match the network: ${problems.slice(0, 6).join('; ')}` +
        (problems.length > 6 ? `; and ${problems.length - 6} more` : '') +
        '. The weights were saved from another network or other settings; load the folder ' +
        'they were trained in.',
    );
  }
  return weights;
}

function quoteList(names: readonly string[]): string {
  const listed = names.slice(0, 4).map((name) => `'${name}'`);
  return names.length > 4 ? `${listed.join(', ')} and ${names.length - 4} more` : listed.join(', ');
}
