// Source text to AST: lexing, parsing, recovery from syntax errors, then the CST visitor. Lexer
// and parser errors become diagnostics; the AST is built only when the text has no syntax error.

import type { IRecognitionException, IToken } from 'chevrotain';
import type { Expr, NetFile } from './ast.js';
import type { Diagnostic, SourceSpan } from './diagnostics.js';
import { closestName } from '../graph/suggest.js';
import { Identifier, netLexer, UnterminatedString } from './lexer.js';
import { netParser } from './parser.js';
import { describeFound } from './parser-messages.js';
import { recoverSyntaxErrors, type LocatedError, type ParsePass } from './recovery.js';
import { AstBuilder } from './visitor.js';

export interface ParseResult<T> {
  value?: T;
  diagnostics: Diagnostic[];
}

/** The span just after the last token, for errors found at the end of the file. */
function endSpan(file: string, source: string): SourceSpan {
  const lines = source.split('\n');
  return { file, line: lines.length, column: lines[lines.length - 1]!.length + 1, length: 1 };
}

function tokenSpan(file: string, source: string, tok: IToken | undefined): SourceSpan {
  if (tok === undefined || !Number.isFinite(tok.startLine)) return endSpan(file, source);
  return { file, line: tok.startLine!, column: tok.startColumn!, length: tok.image.length };
}

/** The byte order mark that some editors write at the start of a UTF-8 file. */
const BYTE_ORDER_MARK = '\uFEFF';

/** Removes a leading byte order mark, which is not part of the text. */
export function stripByteOrderMark(source: string): string {
  return source.startsWith(BYTE_ORDER_MARK) ? source.slice(1) : source;
}

function lex(source: string, file: string): { tokens: IToken[]; diagnostics: Diagnostic[] } {
  const result = netLexer.tokenize(source);
  const diagnostics = result.errors.map((error): Diagnostic => {
    const found = source.substr(error.offset, error.length);
    return {
      span: { file, line: error.line ?? 1, column: error.column ?? 1, length: error.length },
      message: `unexpected character '${found}'`,
      found: `'${found}'`,
    };
  });
  for (const token of result.tokens) {
    if (token.tokenType !== UnterminatedString) continue;
    diagnostics.push({
      span: tokenSpan(file, source, token),
      message: `unterminated string: a string ends on the line where it starts; add the closing '"'`,
      found: 'the end of the line',
    });
  }
  return { tokens: result.tokens, diagnostics };
}

/** Suggests a keyword for a misspelled one: `netwrk` where 'network' was expected. */
function suggestKeyword(expected: string, found: IToken | undefined): string | undefined {
  if (found?.tokenType !== Identifier) return undefined;
  const keywords = [...expected.matchAll(/'([a-z]+)'/g)].map((m) => m[1]!);
  return closestName(found.image, keywords);
}

/** The span just after `token`, for an error reported at the end of its line. */
function spanAfter(file: string, token: IToken): SourceSpan {
  return { file, line: token.endLine!, column: token.endColumn! + 1, length: 1 };
}

function parserDiagnostic(file: string, source: string, located: LocatedError): Diagnostic {
  const { error, lineEnd, message } = located;
  const match = /^expected (.*) but found (.*)$/s.exec(message);
  const span = lineEnd ? spanAfter(file, lineEnd) : tokenSpan(file, source, error.token);
  const diagnostic: Diagnostic = { span, message };
  if (match) {
    diagnostic.expected = match[1]!;
    diagnostic.found = match[2]!;
    const suggestion = lineEnd ? undefined : suggestKeyword(match[1]!, error.token);
    if (suggestion !== undefined) diagnostic.suggestion = suggestion;
  } else {
    diagnostic.found = describeFound(error.token);
  }
  return diagnostic;
}

/** Parses `tokens` once with `rule`; the parser stops at the first syntax error. */
function parseOnce(tokens: IToken[], rule: 'file' | 'expression') {
  netParser.restart(tokens);
  const cst = rule === 'file' ? netParser.file() : netParser.expression();
  const pass: ParsePass = {
    statementStarts: netParser.statementStarts,
    openStatements: netParser.openStatements,
  };
  const error: IRecognitionException | undefined = netParser.errors[0];
  if (error !== undefined) pass.error = error;
  return { cst, pass };
}

/**
 * Returns the syntax errors of a file, one per broken statement. An error on a line that
 * already has a lexer error is left out, because the unexpected character explains it, and so
 * is a second error at the same place.
 */
function syntaxDiagnostics(
  tokens: IToken[],
  file: string,
  source: string,
  lexerErrors: Diagnostic[],
): Diagnostic[] {
  const lexerLines = new Set(lexerErrors.map((diagnostic) => diagnostic.span!.line));
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const located = recoverSyntaxErrors(tokens, (next) => parseOnce(next, 'file').pass);
  for (const error of located) {
    const diagnostic = parserDiagnostic(file, source, error);
    const key = `${diagnostic.span!.line}:${diagnostic.span!.column}`;
    const tokenLine = error.error.token.startLine;
    const explained =
      lexerLines.has(diagnostic.span!.line) ||
      (tokenLine !== undefined && lexerLines.has(tokenLine));
    if (explained || seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.span!.line - b.span!.line || a.span!.column - b.span!.column;
}

/** Brackets may nest this deep; the recursive-descent parser needs stack for every level. */
export const MAX_NESTING = 100;

const OPENING = new Set(['(', '[', '{']);
const CLOSING = new Set([')', ']', '}']);

/** Reports the first bracket that opens more than MAX_NESTING levels. */
function checkNesting(tokens: IToken[], file: string, source: string): Diagnostic[] {
  let depth = 0;
  for (const tok of tokens) {
    if (OPENING.has(tok.image)) depth += 1;
    if (CLOSING.has(tok.image)) depth = Math.max(0, depth - 1);
    if (depth > MAX_NESTING) {
      const message = `brackets nest more than ${MAX_NESTING} levels deep here; split the expression or the block`;
      return [{ span: tokenSpan(file, source, tok), message }];
    }
  }
  return [];
}

function runParser<T>(
  text: string,
  file: string,
  rule: 'file' | 'expression',
  build: (builder: AstBuilder, cst: ReturnType<typeof netParser.file>) => T,
): ParseResult<T> {
  const source = stripByteOrderMark(text);
  const lexed = lex(source, file);
  const nesting = checkNesting(lexed.tokens, file, source);
  if (nesting.length > 0) return { diagnostics: [...lexed.diagnostics, ...nesting] };
  try {
    const { cst, pass } = parseOnce(lexed.tokens, rule);
    if (pass.error !== undefined || lexed.diagnostics.length > 0) {
      const syntax =
        rule === 'file'
          ? syntaxDiagnostics(lexed.tokens, file, source, lexed.diagnostics)
          : pass.error && [
              parserDiagnostic(file, source, { error: pass.error, message: pass.error.message }),
            ];
      return { diagnostics: [...lexed.diagnostics, ...(syntax ?? [])].sort(byPosition) };
    }
    const builder = new AstBuilder(file, parseEmbedded);
    const value = build(builder, cst);
    return builder.diagnostics.length > 0
      ? { diagnostics: builder.diagnostics }
      : { value, diagnostics: [] };
  } catch (error) {
    // Long operator chains without brackets (`- - - ... 1`) can still exhaust the stack.
    if (!(error instanceof RangeError)) throw error;
    const message = 'the file nests expressions too deeply to parse; split long expressions';
    return { diagnostics: [{ span: tokenSpan(file, source, lexed.tokens[0]), message }] };
  }
}

/** Parses one .net file; `file` is the path shown in diagnostics and recorded in spans. */
export function parseNet(source: string, file: string): ParseResult<NetFile> {
  return runParser(source, file, 'file', (builder, cst) => builder.visit(cst) as NetFile);
}

/**
 * Parses the expression inside a string's `{...}`. The text is padded with newlines and spaces
 * so that its tokens carry their real line and column in the file.
 */
function parseEmbedded(text: string, file: string, line: number, column: number) {
  const padded = '\n'.repeat(line - 1) + ' '.repeat(column - 1) + text;
  const result = runParser(
    padded,
    file,
    'expression',
    (builder, cst) => builder.visit(cst) as Expr,
  );
  if (result.value === undefined && result.diagnostics.length === 0) {
    result.diagnostics.push({
      span: { file, line, column, length: Math.max(1, text.length) },
      message: 'expected an expression between { and } in a string',
    });
  }
  if (result.value) return { expr: result.value, diagnostics: [] };
  const diagnostics = result.diagnostics.map((diagnostic) => ({
    ...diagnostic,
    message: diagnostic.message.replace('the end of the file', "'}'"),
    found: diagnostic.found?.replace('the end of the file', "'}'"),
  }));
  return { diagnostics };
}

/** Parses a standalone expression, as given to `--set name=value`. */
export function parseExpression(source: string, file: string): ParseResult<Expr> {
  return runParser(source, file, 'expression', (builder, cst) => builder.visit(cst) as Expr);
}
