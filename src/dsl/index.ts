// The public API of the .net language, usable in Node and in browsers. Reading the catalogue
// from disk needs Node and lives in catalogue.ts.

export { compileNetFile, parseSettings, rootNetworks } from './compile.js';
export type { CompileOptions, CompiledNetwork } from './compile.js';
export {
  DslError,
  formatDiagnostic,
  formatDiagnostics,
  type Diagnostic,
  type RelatedNote,
  type SourceSpan,
} from './diagnostics.js';
export { loadProgram, memoryHost, resolveImport } from './modules.js';
export type { LoadedProgram, SourceHost } from './modules.js';
export { parseExpression, parseNet } from './parse.js';
export type * as ast from './ast.js';
