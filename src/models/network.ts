// The `network` argument of a model: a network config instance, its JSON, a `.net` file or
// `.net` source. Each becomes a graph builder for a batch size and a JSON description that
// rebuilds it. Reading a `.net` file by path needs Node. A model built from `.net` source, with
// its imports in `netImports`, needs no file system and so runs in browsers.

import { compileNetFile } from '../dsl/compile.js';
import { resolveImport, type LoadedProgram, type SourceHost } from '../dsl/modules.js';
import { UserError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { NetworkConfig } from '../networks/config.js';
import { networkFromJSON } from '../networks/registry.js';
import { isNode, nodeFs } from '../training/node-builtins.js';

/** A `.net` network: a file (imports resolved from its folder) or source text. */
export interface NetNetwork {
  /** Path of a .net file (Node only). */
  netFile?: string;
  /**
   * .net source, used instead of netFile. Its imports are looked up in netImports first, then
   * (in Node) on disk relative to the working directory.
   */
  netSource?: string;
  /**
   * Sources of the files netSource imports, directly or through other imports, by path
   * relative to netSource's folder as the import statements write it ({ 'common.net': ... });
   * default none.
   */
  netImports?: Record<string, string>;
  /** The network to build, when the file declares several. */
  network?: string;
  /** Parameter settings as `name=value`, as the CLI's --set. */
  set?: string[];
  /**
   * Names a setting in error messages (see CompileOptions.setLabel): '--set ' by default,
   * 'network.settings.' when the settings come from a configuration file. Not saved.
   */
  setLabel?: string;
}

export type NetworkSpec = NetworkConfig<object> | NetNetwork | { name: string };

/** A network resolved once: builds its graph for a batch size and describes itself. */
export interface ResolvedNetwork {
  toGraph(batchSize: number): Graph;
  /** JSON that `resolveNetwork` turns back into the same network. */
  toJSON(): unknown;
  /** Source of a `.net` network, written to the experiment folder; undefined otherwise. */
  source?: string;
  /**
   * The files a `.net` network imports, by path relative to its own file's folder; empty for
   * other networks. Throws a UserError when an import lies outside that folder, because an
   * experiment folder could then not hold it under the same relative name.
   */
  imports(): Record<string, string>;
}

const SOURCE_PATH = 'network.net';

/** Reads files from disk (Node only); paths are used as given, relative to the cwd. */
const fileHost: SourceHost = {
  readFile(path) {
    try {
      return nodeFs(`Reading the .net file '${path}'`).readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  },
};

function sourceHost(source: string, imports: Record<string, string>): SourceHost {
  const memory = new Map([[SOURCE_PATH, source]]);
  for (const [path, text] of Object.entries(imports)) {
    memory.set(resolveImport(SOURCE_PATH, path), text);
  }
  return {
    readFile: (path) => memory.get(path) ?? (isNode() ? fileHost.readFile(path) : undefined),
  };
}

function resolveNet(spec: NetNetwork): ResolvedNetwork {
  checkImports(spec.netImports);
  const fromSource = spec.netSource !== undefined;
  const source = spec.netSource ?? readNetFile(spec.netFile);
  const host = fromSource ? sourceHost(spec.netSource!, spec.netImports ?? {}) : fileHost;
  const path = fromSource ? SOURCE_PATH : spec.netFile!;
  const options = { network: spec.network, set: spec.set, setLabel: spec.setLabel };
  // Compile once now, so mistakes in the file surface when the model is created.
  const { program } = compileNetFile(host, path, options);
  return {
    source,
    toJSON: () => {
      const { setLabel: _label, ...saved } = spec;
      return saved;
    },
    toGraph: (batchSize) => compileNetFile(host, path, { ...options, batchSize }).graph,
    imports: () => importedFiles(path, program),
  };
}

function checkImports(imports: unknown): void {
  if (imports === undefined) return;
  const valid =
    imports !== null &&
    typeof imports === 'object' &&
    !Array.isArray(imports) &&
    Object.values(imports).every((text) => typeof text === 'string');
  if (valid) return;
  throw new UserError(
    `netImports must map import paths to .net source text ({ "common.net": "..." }), got ` +
      `${JSON.stringify(imports)?.slice(0, 80)}.`,
  );
}

/** Returns the loaded .net files other than `root`, by path relative to the root's folder. */
function importedFiles(root: string, program: LoadedProgram) {
  // Imports resolve to normalised paths ('./dsl/' becomes 'dsl/'), so the folder is too.
  const base = resolveImport(root, '.');
  const folder = base === '' || base.endsWith('/') ? base : `${base}/`;
  const files: Record<string, string> = {};
  // program.sources also contains the --set settings' text, so the parsed files are listed.
  for (const path of program.files.keys()) {
    const text = program.sources.get(path)!;
    if (path === root) continue;
    if (!path.startsWith(folder) || path.slice(folder.length).split('/').includes('..')) {
      throw new UserError(
        `The network ${root} imports '${path}', which lies outside its folder '${folder}'. An ` +
          'experiment folder stores the imports beside the network under the same relative ' +
          'names, so move the imported file into that folder or below it.',
      );
    }
    files[path.slice(folder.length)] = text;
  }
  return files;
}

function readNetFile(path: string | undefined): string {
  if (path === undefined) {
    throw new UserError('A .net network needs netFile (a path) or netSource (the source text).');
  }
  try {
    return nodeFs(`Reading the .net file '${path}'`).readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`Cannot read the .net file '${path}': ${(error as Error).message}.`);
  }
}

/** Resolves a model's `network` argument. Throws a UserError for an unusable one. */
export function resolveNetwork(spec: NetworkSpec): ResolvedNetwork {
  if (spec instanceof NetworkConfig) {
    return {
      toGraph: (batchSize) => spec.toGraph({ batchSize }),
      toJSON: () => spec.toJSON(),
      imports: () => ({}),
    };
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
