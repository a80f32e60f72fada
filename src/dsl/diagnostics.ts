// Compile errors of the .net language as data: a position, a message, what was expected and
// found, a "did you mean" suggestion and related positions (for a shape error, the layers that
// produced each operand). formatDiagnostic renders one for a terminal, with the source line and
// a caret under the offending text.

import { UserError } from '../errors.js';

/** A range of one source line; line and column count from 1, length is in characters. */
export interface SourceSpan {
  file: string;
  line: number;
  column: number;
  length: number;
}

/** A position that explains a diagnostic, such as the layer that produced one operand. */
export interface RelatedNote {
  span: SourceSpan;
  message: string;
}

export interface Diagnostic {
  /** Where the error is; absent only for an error about a whole file (a missing file). */
  span?: SourceSpan;
  message: string;
  expected?: string;
  found?: string;
  /** A close spelling of a misspelled name, shown as "did you mean 'x'?". */
  suggestion?: string;
  notes?: RelatedNote[];
}

/** One or more compile errors in .net sources; a user's mistake, so the CLI exits with 1. */
export class DslError extends UserError {
  override name = 'DslError';
  readonly diagnostics: Diagnostic[];
  /** File texts by path, so that formatDiagnostics can quote the source lines. */
  readonly sources: ReadonlyMap<string, string>;

  constructor(diagnostics: Diagnostic[], sources: ReadonlyMap<string, string>) {
    super(formatDiagnostics(diagnostics, sources));
    this.diagnostics = diagnostics;
    this.sources = sources;
  }
}

/** Thrown by elaboration helpers for one error; the driver collects it with its span. */
export class DiagnosticError extends Error {
  readonly diagnostic: Diagnostic;

  constructor(diagnostic: Diagnostic) {
    super(diagnostic.message);
    this.diagnostic = diagnostic;
  }
}

export function spanText(span: SourceSpan): string {
  return `${span.file}:${span.line}:${span.column}`;
}

function quoteLine(span: SourceSpan, sources: ReadonlyMap<string, string>): string[] {
  const text = sources.get(span.file);
  if (text === undefined) return [];
  const line = text.split('\n')[span.line - 1];
  if (line === undefined) return [];
  const gutter = String(span.line);
  const pad = ' '.repeat(gutter.length);
  const visible = line.replace(/\t/g, ' ').replace(/\r$/, '');
  const caretLength = Math.max(1, Math.min(span.length, visible.length - span.column + 1));
  return [
    ` ${gutter} | ${visible}`,
    ` ${pad} | ${' '.repeat(Math.max(0, span.column - 1))}${'^'.repeat(caretLength)}`,
  ];
}

/** Renders one diagnostic: "file:line:column: error: message", the source line and a caret. */
export function formatDiagnostic(
  diagnostic: Diagnostic,
  sources: ReadonlyMap<string, string>,
): string {
  const where = diagnostic.span ? `${spanText(diagnostic.span)}: ` : '';
  const lines = [`${where}error: ${diagnostic.message}`];
  if (diagnostic.span) lines.push(...quoteLine(diagnostic.span, sources));
  if (diagnostic.suggestion !== undefined) lines.push(`  did you mean '${diagnostic.suggestion}'?`);
  for (const note of diagnostic.notes ?? []) {
    lines.push(`  note: ${note.message} (${spanText(note.span)})`);
    lines.push(...quoteLine(note.span, sources).map((line) => `  ${line}`));
  }
  return lines.join('\n');
}

export function formatDiagnostics(
  diagnostics: Diagnostic[],
  sources: ReadonlyMap<string, string>,
): string {
  const body = diagnostics.map((d) => formatDiagnostic(d, sources)).join('\n\n');
  const count = diagnostics.length === 1 ? '1 error' : `${diagnostics.length} errors`;
  return `${body}\n\n${count}`;
}
