// Loading a trained experiment folder for inference, in Node or in a browser: experiment.json,
// the network source, the preprocessing the model was trained with, and the selected weights.
// Each is checked, with a message that names the file and what to do.

import { compileNetFile } from '../dsl/compile.js';
import type { SourceHost } from '../dsl/modules.js';
import { UserError } from '../errors.js';
import { formatShape, type Graph, type Value } from '../graph/ir.js';
import { networkFromJSON } from '../networks/registry.js';
import type { Gpu } from '../runtime/gpu.js';
import type { ExperimentFiles } from './files.js';
import { compileInference, type InferenceNetwork } from './inference.js';
import { readNetworkSources, sourcesHost, type NetworkSources } from './network-source.js';
import { readPreprocessing, type Preprocessing } from './preprocessing.js';
import { readSelectedWeights } from './weights.js';

/**
 * Version of the experiment folder layout this loader reads. It must equal the trainer's
 * MAPS_VERSION (src/training/maps.ts, Node only); a test checks that they agree.
 */
export const EXPERIMENT_LAYOUT_VERSION = 1;

/** Meaning of the network's output, decided from the model class and the output's shape. */
export type ExperimentTask = 'classification' | 'regression' | 'segmentation' | 'reconstruction';

export interface LoadOptions {
  /** Selection metric whose best model is loaded; default the trainer's first selection metric. */
  selection?: string;
  /** Split number; default 0. */
  split?: number;
  /** Source of .net files imported by the network but missing from networks/. */
  imports?: SourceHost;
}

/** The network of the experiment: a .net file with its settings, or a network config JSON. */
export interface ExperimentNetwork {
  /** The .net sources (absent for a network config JSON). */
  net?: NetworkSources;
  /** The network chosen in the .net file, when it declares several. */
  name?: string;
  /** Settings of the .net network as `name=value`. */
  set: string[];
  /** The network config JSON, for networks built from TypeScript configs. */
  config?: unknown;
}

export interface LoadedExperiment {
  files: ExperimentFiles;
  /** experiment.json as read. */
  experiment: Record<string, unknown>;
  /** 'SupervisedModel' or 'ReconstructionModel'. */
  modelName: string;
  task: ExperimentTask;
  network: ExperimentNetwork;
  /** Name of the network's input and output in the graph. */
  inputName: string;
  outputName: string;
  /** Shape of one input sample, without the batch axis: `[C, D, H, W]`. */
  inShape: number[];
  /** Shape of one output sample, without the batch axis. */
  outShape: number[];
  /** The data side recorded at training, or undefined when the folder has none. */
  preprocessing: Preprocessing | undefined;
  /** The model's inferer JSON (patches, slices), or null for whole samples. */
  inferer: { name: string; [key: string]: unknown } | null;
  split: number;
  selection: string;
  /** Path of the weights file that was read. */
  weightsPath: string;
  /** Parameters and buffers by state_dict name. */
  weights: Map<string, Float32Array>;
  /** Builds the network's graph for a batch size (eval mode is chosen at compile time). */
  buildGraph(batchSize: number): Graph;
  /** Compiles the network in eval mode on `gpu` with the weights loaded (compileInference). */
  compile(gpu: Gpu, options?: { batchSize?: number }): Promise<InferenceNetwork>;
}

/** Reads and checks an experiment folder; see LoadedExperiment. */
export async function loadExperiment(
  files: ExperimentFiles,
  options: LoadOptions = {},
): Promise<LoadedExperiment> {
  const experiment = await readExperimentJson(files);
  const model = experiment.model as Record<string, unknown>;
  const network = await readNetwork(files, experiment, options.imports);
  const buildGraph = graphBuilder(network);
  const graph = buildGraph(1);
  const input = only(graph.inputs, 'input', 'input', files);
  const output = only(graph.outputs, 'output', 'output', files);
  const inShape = input.value.shape.slice(1);
  const outShape = output.value.shape.slice(1);
  const preprocessing = await readPreprocessing(files, experiment);
  const modelName = String(model.name);
  const task = inferTask(modelName, inShape, outShape, preprocessing);
  const weights = await readSelectedWeights(files, experiment, graph, options);
  const loaded: LoadedExperiment = {
    files,
    experiment,
    modelName,
    task,
    network,
    inputName: input.name,
    outputName: output.name,
    inShape,
    outShape,
    preprocessing,
    inferer: (model.inferer as LoadedExperiment['inferer']) ?? null,
    ...weights,
    buildGraph,
    compile: (gpu, compileOptions) => compileInference(gpu, loaded, compileOptions),
  };
  return loaded;
}

async function readExperimentJson(files: ExperimentFiles): Promise<Record<string, unknown>> {
  if (!files.has('experiment.json')) {
    throw new UserError(
      `${files.name} is not an experiment folder of clinicadl-webgpu: it has no ` +
        "experiment.json. Give the folder that 'clinicadl-webgpu train' wrote (its --output).",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(await files.readText('experiment.json'));
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      `${files.name}: experiment.json is not valid JSON (${(error as Error).message}).`,
    );
  }
  const record = json as Record<string, unknown> | null;
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new UserError(`${files.name}: experiment.json must hold a JSON object.`);
  }
  if (record.mapsVersion !== EXPERIMENT_LAYOUT_VERSION) {
    throw new UserError(
      `${files.name}: experiment.json has mapsVersion ${JSON.stringify(record.mapsVersion)}, ` +
        `but this version of clinicadl-webgpu reads version ${EXPERIMENT_LAYOUT_VERSION}. ` +
        'Train again with this version, or use the version that wrote the folder.',
    );
  }
  const model = record.model as Record<string, unknown> | undefined;
  if (model === undefined || typeof model !== 'object' || typeof model.name !== 'string') {
    throw new UserError(
      `${files.name}: experiment.json has no model section with a name; the file is damaged ` +
        'or was not written by the trainer.',
    );
  }
  return record;
}

async function readNetwork(
  files: ExperimentFiles,
  experiment: Record<string, unknown>,
  imports: SourceHost | undefined,
): Promise<ExperimentNetwork> {
  const spec = ((experiment.model as Record<string, unknown>).network ?? {}) as Record<
    string,
    unknown
  >;
  const set = Array.isArray(spec.set) ? spec.set.map(String) : [];
  const name = typeof spec.network === 'string' ? spec.network : undefined;
  if (typeof spec.netFile === 'string' || typeof spec.netSource === 'string') {
    const path = typeof experiment.network === 'string' ? experiment.network : undefined;
    if (path === undefined || !path.endsWith('.net')) {
      throw new UserError(
        `${files.name}: experiment.json names no .net file in 'network' although the model ` +
          'was built from one; the folder is incomplete.',
      );
    }
    const net = await readNetworkSources(files, path, imports);
    return { net, set, ...(name !== undefined ? { name } : {}) };
  }
  return { set, config: spec };
}

function graphBuilder(network: ExperimentNetwork): (batchSize: number) => Graph {
  const { net } = network;
  if (net !== undefined) {
    const host = sourcesHost(net);
    const options = { network: network.name, set: network.set };
    return (batchSize) => compileNetFile(host, net.root, { ...options, batchSize }).graph;
  }
  const config = networkFromJSON(network.config);
  return (batchSize) => config.toGraph({ batchSize });
}

/** Returns the graph's only input (output), or the one called `preferred`. */
function only(
  entries: readonly { name: string; value: Value }[],
  preferred: string,
  role: string,
  files: ExperimentFiles,
): { name: string; value: Value } {
  const found = entries.length === 1 ? entries[0] : entries.find((e) => e.name === preferred);
  if (found !== undefined) return found;
  throw new UserError(
    `${files.name}: the network has ${role}s ${entries.map((e) => e.name).join(', ')}; ` +
      `inference needs one ${role}, or one named '${preferred}'.`,
  );
}

/** Decides what the output means; a SupervisedModel with a voxel-wise output segments. */
export function inferTask(
  modelName: string,
  inShape: readonly number[],
  outShape: readonly number[],
  preprocessing: Preprocessing | undefined,
): ExperimentTask {
  if (modelName === 'ReconstructionModel') return 'reconstruction';
  if (outShape.length > 1 && outShape.slice(1).join() === inShape.slice(1).join()) {
    return 'segmentation';
  }
  if ((preprocessing?.classes.length ?? 0) > 0) return 'classification';
  if (outShape.length === 1 && outShape[0] === 1) return 'regression';
  // Without recorded classes, several outputs per sample are still read as class scores.
  if (outShape.length === 1) return 'classification';
  throw new UserError(
    `The network's output ${formatShape(outShape)} is neither class scores nor a voxel-wise ` +
      `map of the input ${formatShape(inShape)}; predict cannot interpret it.`,
  );
}
