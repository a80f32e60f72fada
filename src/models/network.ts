// The `network` argument of a model: a network config instance, its JSON, a `.net` file or
// `.net` source. Each becomes a graph builder for a batch size and a JSON description that
// rebuilds it.

import { readFileSync } from 'node:fs';
import { nodeHost } from '../dsl/catalogue.js';
import { compileNetFile } from '../dsl/compile.js';
import { memoryHost, type SourceHost } from '../dsl/modules.js';
import { UserError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { NetworkConfig } from '../networks/config.js';
import { networkFromJSON } from '../networks/registry.js';

/** A `.net` network: a file (imports resolved from its folder) or source text. */
export interface NetNetwork {
  /** Path of a .net file. */
  netFile?: string;
  /** .net source, used instead of netFile; imports are resolved as for a file in the cwd. */
  netSource?: string;
  /** The network to build, when the file declares several. */
  network?: string;
  /** Parameter settings as `name=value`, as the CLI's --set. */
  set?: string[];
}

export type NetworkSpec = NetworkConfig<object> | NetNetwork | { name: string };

/** A network resolved once: builds its graph for a batch size and describes itself. */
export interface ResolvedNetwork {
  toGraph(batchSize: number): Graph;
  /** JSON that `resolveNetwork` turns back into the same network. */
  toJSON(): unknown;
  /** Source of a `.net` network, written to the experiment folder; undefined otherwise. */
  source?: string;
}

const SOURCE_PATH = 'network.net';

function sourceHost(source: string): SourceHost {
  const memory = memoryHost({ [SOURCE_PATH]: source });
  return {
    readFile: (path) => (path === SOURCE_PATH ? memory.readFile(path) : nodeHost.readFile(path)),
  };
}

function resolveNet(spec: NetNetwork): ResolvedNetwork {
  const source = spec.netSource ?? readNetFile(spec.netFile);
  const host = spec.netSource !== undefined ? sourceHost(spec.netSource) : nodeHost;
  const path = spec.netSource !== undefined ? SOURCE_PATH : spec.netFile!;
  const options = { network: spec.network, set: spec.set };
  // Compile once now, so mistakes in the file surface when the model is created.
  compileNetFile(host, path, options);
  return {
    source,
    toJSON: () => ({ ...spec }),
    toGraph: (batchSize) => compileNetFile(host, path, { ...options, batchSize }).graph,
  };
}

function readNetFile(path: string | undefined): string {
  if (path === undefined) {
    throw new UserError('A .net network needs netFile (a path) or netSource (the source text).');
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`Cannot read the .net file '${path}': ${(error as Error).message}.`);
  }
}

/** Resolves a model's `network` argument. Throws a UserError for an unusable one. */
export function resolveNetwork(spec: NetworkSpec): ResolvedNetwork {
  if (spec instanceof NetworkConfig) {
    return { toGraph: (batchSize) => spec.toGraph({ batchSize }), toJSON: () => spec.toJSON() };
  }
  if (spec === null || typeof spec !== 'object') {
    throw new UserError(
      `network must be a network config, its JSON or { netFile | netSource }, got ` +
        `${JSON.stringify(spec)}.`,
    );
  }
  if ('netFile' in spec || 'netSource' in spec) return resolveNet(spec as NetNetwork);
  return resolveNetwork(networkFromJSON(spec));
}
