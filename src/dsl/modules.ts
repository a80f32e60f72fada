// Loading a .net file with its imports. Imports resolve relative to the importing file, every
// file is parsed once, and an import cycle is an error that names the chain of files. All
// blocks of the loaded files share one namespace and so do all networks, so a block or a network
// declared twice is an error.

import type { Decl, NetFile } from './ast.js';
import type { Diagnostic } from './diagnostics.js';
import { parseNet, stripByteOrderMark } from './parse.js';

/** Reads source files; returns undefined for a file that does not exist. */
export interface SourceHost {
  readFile(path: string): string | undefined;
}

export interface LoadedProgram {
  /** The file that was loaded first; its networks are the ones a user asks for. */
  root: string;
  files: Map<string, NetFile>;
  /** Source texts by path, for quoting lines in diagnostics. */
  sources: Map<string, string>;
  /** Blocks of all loaded files by name. */
  blocks: Map<string, Decl>;
  /** Networks of all loaded files by name; a network and a block may share a name. */
  networks: Map<string, Decl>;
  diagnostics: Diagnostic[];
}

/** Joins a relative import to the importing file's folder; the result uses '/' separators. */
export function resolveImport(fromFile: string, spec: string): string {
  if (spec.startsWith('/')) return normalizePath(spec);
  const from = fromFile.replace(/\\/g, '/');
  const slash = from.lastIndexOf('/');
  const folder = slash >= 0 ? from.slice(0, slash + 1) : '';
  return normalizePath(folder + spec);
}

function normalizePath(path: string): string {
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else if (part === '..' && absolute) continue;
    else parts.push(part);
  }
  return (absolute ? '/' : '') + parts.join('/');
}

class Loader {
  readonly program: LoadedProgram;
  private readonly stack: string[] = [];

  constructor(
    private readonly host: SourceHost,
    root: string,
  ) {
    this.program = {
      root,
      files: new Map(),
      sources: new Map(),
      blocks: new Map(),
      networks: new Map(),
      diagnostics: [],
    };
  }

  load(path: string): void {
    const source = this.host.readFile(path);
    if (source === undefined) {
      this.program.diagnostics.push({ message: `file '${path}' not found` });
      return;
    }
    this.visit(path, source);
  }

  private visit(path: string, source: string): void {
    this.program.sources.set(path, stripByteOrderMark(source));
    const parsed = parseNet(source, path);
    this.program.diagnostics.push(...parsed.diagnostics);
    if (parsed.value === undefined) return;
    this.program.files.set(path, parsed.value);
    this.stack.push(path);
    for (const item of parsed.value.imports) this.importFile(path, item.path, item.span);
    this.stack.pop();
    for (const decl of parsed.value.decls) this.declare(decl);
  }

  private importFile(from: string, spec: string, span: Diagnostic['span']): void {
    const target = resolveImport(from, spec);
    const cycleStart = this.stack.indexOf(target);
    if (cycleStart >= 0) {
      const chain = [...this.stack.slice(cycleStart), target].join(' -> ');
      this.program.diagnostics.push({ span, message: `import cycle: ${chain}` });
      return;
    }
    if (this.program.sources.has(target)) return;
    const source = this.host.readFile(target);
    if (source === undefined) {
      this.program.diagnostics.push({
        span,
        message: `imported file '${spec}' not found (looked for '${target}', relative to '${from}')`,
      });
      return;
    }
    this.visit(target, source);
  }

  private declare(decl: Decl): void {
    const table = decl.kind === 'block' ? this.program.blocks : this.program.networks;
    const previous = table.get(decl.name);
    if (previous) {
      const where = `${previous.span.file}:${previous.span.line}`;
      this.program.diagnostics.push({
        span: decl.span,
        message: `${decl.kind} '${decl.name}' is already declared at ${where}; rename one of them`,
        notes: [{ span: previous.span, message: `first declaration of '${decl.name}'` }],
      });
      return;
    }
    table.set(decl.name, decl);
  }
}

/** Loads `path` and everything it imports; problems are returned as diagnostics. */
export function loadProgram(host: SourceHost, path: string): LoadedProgram {
  const loader = new Loader(host, path);
  loader.load(path);
  return loader.program;
}

/** A host over in-memory files, for tests and for the browser. */
export function memoryHost(files: Record<string, string>): SourceHost {
  return { readFile: (path) => files[path] };
}
