// The network of an experiment folder: the .net file under networks/ with every file it
// imports, read ahead so the compiler's synchronous SourceHost can serve them from memory.
// Folders written before the trainer copied imported files next to the network import
// catalogue files (`import "common.net"`) that are not in networks/; a fallback host, the
// package's dsl/ folder in Node or a bundled copy in browsers, serves those.

import type { SourceHost } from '../dsl/modules.js';
import { resolveImport } from '../dsl/modules.js';
import { parseNet } from '../dsl/parse.js';
import { UserError } from '../errors.js';
import type { ExperimentFiles } from './files.js';

/** The source files of a .net network, by path relative to the experiment folder. */
export interface NetworkSources {
  /** Path of the network's own file, such as 'networks/network.net'. */
  root: string;
  sources: Map<string, string>;
  /** Imported files that came from the fallback host, by path as imported. */
  fromFallback: string[];
}

/**
 * Reads `root` and, recursively, the files it imports. An import missing from the folder is
 * asked of `fallback` by the path written in the import statement ('common.net').
 * Files that fail to parse are kept as they are; the compiler reports their diagnostics.
 */
export async function readNetworkSources(
  files: ExperimentFiles,
  root: string,
  fallback?: SourceHost,
): Promise<NetworkSources> {
  if (!files.has(root)) {
    throw new UserError(
      `${files.name} has no network file '${root}' (named by experiment.json 'network'); copy ` +
        'the .net file used for training there.',
    );
  }
  const sources = new Map<string, string>();
  const fromFallback: string[] = [];
  const pending: { path: string; importer?: string; spec?: string }[] = [{ path: root }];
  while (pending.length > 0) {
    const { path, importer, spec } = pending.pop()!;
    if (sources.has(path)) continue;
    const source = await readSource(files, path, importer, spec, fallback);
    if (source === undefined) continue;
    if (!files.has(path)) fromFallback.push(spec!);
    sources.set(path, source);
    for (const item of parseNet(source, path).value?.imports ?? []) {
      pending.push({ path: resolveImport(path, item.path), importer: path, spec: item.path });
    }
  }
  return { root, sources, fromFallback };
}

/**
 * Returns the file's text, or undefined for an import found neither in the folder nor in the
 * fallback (the compiler then reports it).
 */
async function readSource(
  files: ExperimentFiles,
  path: string,
  importer: string | undefined,
  spec: string | undefined,
  fallback: SourceHost | undefined,
): Promise<string | undefined> {
  if (files.has(path)) return files.readText(path);
  if (importer === undefined || spec === undefined || fallback === undefined) return undefined;
  return fallback.readFile(spec.replace(/^(\.\/)+/, ''));
}

/** Returns a SourceHost over the sources read by readNetworkSources. */
export function sourcesHost(network: NetworkSources): SourceHost {
  return { readFile: (path) => network.sources.get(path) };
}
