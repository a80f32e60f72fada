// The entry point of the language: load a .net file with its imports, pick a network, parse the
// `--set name=value` settings and elaborate the network into the graph IR. Every user mistake
// is thrown as one DslError carrying all diagnostics found.

import { UserError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { closestName } from '../graph/suggest.js';
import type { Decl } from './ast.js';
import { DiagnosticError, DslError, type Diagnostic } from './diagnostics.js';
import { elaborateNetwork, type Settings } from './elaborate.js';
import { Env, Evaluator } from './evaluate.js';
import { loadProgram, type LoadedProgram, type SourceHost } from './modules.js';
import { parseExpression } from './parse.js';

export interface CompileOptions {
  /** Network to build; may be omitted when the file declares exactly one network. */
  network?: string;
  /** Parameter values as `name=value`, the value written in the language: `channels=[8, 16]`. */
  set?: readonly string[];
  /**
   * Names a setting in diagnostics, before its name: '--set ' (the default) for the command
   * line, 'network.settings.' for a configuration file.
   */
  setLabel?: string;
  /** Batch size N, the first axis of every graph input (default 1). */
  batchSize?: number;
}

export interface CompiledNetwork {
  graph: Graph;
  network: Decl;
  program: LoadedProgram;
}

/** The networks declared in the loaded file itself, not those of its imports. */
export function rootNetworks(program: LoadedProgram): Decl[] {
  const file = program.files.get(program.root);
  return file ? file.decls.filter((decl) => decl.kind === 'network') : [];
}

function pickNetwork(program: LoadedProgram, name: string | undefined): Decl | Diagnostic {
  const networks = rootNetworks(program);
  const names = networks.map((decl) => decl.name);
  // An error about the whole file points at its start.
  const span = { file: program.root, line: 1, column: 1, length: 1 };
  if (networks.length === 0) {
    const message = "the file declares no network; add one with 'network Name(...) { ... }'";
    return { span, message };
  }
  if (name === undefined) {
    if (networks.length === 1) return networks[0]!;
    const message =
      `the file declares networks ${names.join(', ')}; ` +
      'choose one with the network option (--network on the command line)';
    return { span, message };
  }
  const found = networks.find((decl) => decl.name === name);
  if (found) return found;
  const suggestion = closestName(name, names);
  const diagnostic: Diagnostic = {
    span,
    message: `the file has no network '${name}'; it declares ${names.join(', ')}`,
  };
  if (suggestion !== undefined) diagnostic.suggestion = suggestion;
  return diagnostic;
}

const noCalls = (name: string): never => {
  throw new Error(`unreachable: setting calls '${name}'`);
};

/**
 * Parses `name=value` settings. A value is an expression of the language evaluated without
 * variables; a bare word that is not a known name is taken as a string (`act=gelu`).
 */
export function parseSettings(
  entries: readonly string[],
  sources: Map<string, string>,
  label = '--set ',
): { settings: Settings; diagnostics: Diagnostic[] } {
  const settings: Settings = new Map();
  const diagnostics: Diagnostic[] = [];
  const evaluator = new Evaluator(noCalls, () => []);
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    const name = entry.slice(0, equals).trim();
    const file = `${label}${name || entry}`;
    sources.set(file, entry);
    if (equals < 1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      const span = { file, line: 1, column: 1, length: entry.length };
      diagnostics.push({ span, message: `invalid setting '${entry}': write name=value` });
      continue;
    }
    const source = ' '.repeat(equals + 1) + entry.slice(equals + 1);
    const parsed = parseExpression(source, file);
    if (parsed.value === undefined) {
      diagnostics.push(...parsed.diagnostics);
      continue;
    }
    const span = parsed.value.span;
    const nameSpan = { file, line: 1, column: 1, length: name.length };
    if (parsed.value.kind === 'name') {
      settings.set(name, { value: parsed.value.name, span, nameSpan });
      continue;
    }
    try {
      settings.set(name, { value: evaluator.evaluate(parsed.value, new Env()), span, nameSpan });
    } catch (error) {
      if (!(error instanceof DiagnosticError)) throw error;
      diagnostics.push(error.diagnostic);
    }
  }
  return { settings, diagnostics };
}

/** Loads `path`, elaborates one of its networks and returns the graph. Throws DslError. */
export function compileNetFile(
  host: SourceHost,
  path: string,
  options: CompileOptions = {},
): CompiledNetwork {
  const program = loadProgram(host, path);
  if (program.diagnostics.length > 0) throw new DslError(program.diagnostics, program.sources);
  const network = pickNetwork(program, options.network);
  const { settings, diagnostics } = parseSettings(
    options.set ?? [],
    program.sources,
    options.setLabel,
  );
  const problems = 'message' in network ? [network, ...diagnostics] : diagnostics;
  if (problems.length > 0) throw new DslError(problems, program.sources);
  const decl = network as Decl;
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError(`batchSize must be an integer >= 1, got ${batchSize}`);
  }
  const graph = elaborateNetwork(program, decl, settings, batchSize);
  return { graph, network: decl, program };
}
