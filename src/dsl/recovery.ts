// Statement-level recovery from syntax errors. The parser stops at its first error. Recovery
// records that error, cuts the broken statement out of the token list or inserts a missing
// bracket, and parses again, until the tokens parse or MAX_SYNTAX_PASSES passes have run.
// Line breaks carry no meaning in the grammar, but people end statements at line ends. So a cut
// ends where a later line starts a statement, and an error at the first token of such a line is
// reported at the end of the line before, where the text was left unfinished.

import {
  createTokenInstance,
  tokenMatcher,
  type IRecognitionException,
  type IToken,
  type TokenType,
} from 'chevrotain';
import * as T from './lexer.js';

/** Parses a file at most this many times, so at most this many syntax errors are reported. */
export const MAX_SYNTAX_PASSES = 50;

/** One parse of a token list: its first error, if any, and where its statements started. */
export interface ParsePass {
  error?: IRecognitionException;
  /** The first token of every statement entered, in input order. */
  statementStarts: IToken[];
  /** The first tokens of the statements that contain the error, the innermost last. */
  openStatements: IToken[];
}

/** A syntax error as it should be reported. */
export interface LocatedError {
  error: IRecognitionException;
  message: string;
  /** Set for an error reported at a line end: the last token before that line end. */
  lineEnd?: IToken;
}

/** Tokens that need a value after them, so a line ending with one leaves an expression open. */
const OPEN_OPERATORS: TokenType[] = [
  T.Plus,
  T.Minus,
  T.Star,
  T.Slash,
  T.FloorDivide,
  T.Percent,
  T.Power,
  T.EqualEqual,
  T.NotEqual,
  T.Less,
  T.LessEqual,
  T.Greater,
  T.GreaterEqual,
  T.And,
  T.Or,
  T.Not,
  T.In,
  T.Question,
  T.Colon,
  T.Equals,
];

/** Brackets that recovery inserts where a line ends without them. */
const BRACKETS: Record<string, TokenType> = {
  ')': T.RParen,
  ']': T.RBracket,
  '{': T.LBrace,
  '}': T.RBrace,
};

const is = (token: IToken | undefined, type: TokenType) =>
  token !== undefined && tokenMatcher(token, type);

function isLineStart(tokens: IToken[], k: number): boolean {
  return k === 0 || tokens[k - 1]!.endLine! < tokens[k]!.startLine!;
}

/** Returns whether tokens[k] can only begin a statement: `name =`, `a, b =`, `output y`, `for`, ... */
function isStatementStart(tokens: IToken[], k: number): boolean {
  const token = tokens[k]!;
  if ([T.Return, T.For, T.If, T.Scope].some((type) => is(token, type))) return true;
  if (is(token, T.Input) && is(tokens[k + 1], T.Identifier) && is(tokens[k + 2], T.Colon)) {
    return true;
  }
  if (is(token, T.Output) && is(tokens[k + 1], T.Identifier)) return true;
  if (!is(token, T.Identifier)) return false;
  let next = k + 1;
  while (is(tokens[next], T.Comma) && is(tokens[next + 1], T.Identifier)) next += 2;
  return is(tokens[next], T.Equals);
}

const isDeclarationStart = (token: IToken) =>
  is(token, T.Network) || is(token, T.Block) || is(token, T.Import);

/** Returns whether a line starts at tokens[k] with a statement, declaration or closing brace. */
function isBoundary(tokens: IToken[], k: number): boolean {
  if (!isLineStart(tokens, k)) return false;
  const token = tokens[k]!;
  return isStatementStart(tokens, k) || isDeclarationStart(token) || is(token, T.RBrace);
}

function nextBoundary(tokens: IToken[], from: number): number {
  let k = from;
  while (k < tokens.length && !isBoundary(tokens, k)) k++;
  return k;
}

function declarationStart(tokens: IToken[], index: number): number {
  for (let k = index; k > 0; k--) {
    if (isLineStart(tokens, k) && isDeclarationStart(tokens[k]!)) return k;
  }
  return 0;
}

function nextDeclaration(tokens: IToken[], from: number): number {
  let k = from;
  while (k < tokens.length && !(isLineStart(tokens, k) && isDeclarationStart(tokens[k]!))) k++;
  return k;
}

/** Returns the position of the last token of `starts` at or before tokens[index], or -1. */
function lastStart(tokens: IToken[], starts: IToken[], index: number): number {
  const positions = new Map(tokens.map((token, k) => [token, k]));
  let start = -1;
  for (const token of starts) {
    const k = positions.get(token);
    if (k !== undefined && k <= index) start = Math.max(start, k);
  }
  return start;
}

/**
 * Returns the end of a broken statement that starts at `start` and contains tokens[index]: the next
 * boundary line, moved so that the cut keeps braces balanced. A nested body opened in the
 * statement is cut with it, and a '}' that closes the enclosing body is kept.
 */
function statementEnd(tokens: IToken[], start: number, index: number): number {
  let end = nextBoundary(tokens, index + 1);
  let depth = 0;
  for (let k = start; k < tokens.length; k++) {
    if (k >= end && depth === 0) return end;
    if (is(tokens[k], T.LBrace)) depth += 1;
    if (is(tokens[k], T.RBrace)) depth -= 1;
    if (depth < 0) return k;
    if (k >= end && depth === 0) end = nextBoundary(tokens, k + 1);
  }
  return tokens.length;
}

const withoutRange = (tokens: IToken[], start: number, end: number) => [
  ...tokens.slice(0, start),
  ...tokens.slice(end),
];

/** Inserts a token of `type` before tokens[index], placed just after `after`. */
function withInserted(tokens: IToken[], index: number, type: TokenType, after: IToken) {
  const line = after.endLine!;
  const column = after.endColumn! + 1;
  const offset = after.endOffset! + 1;
  const inserted = createTokenInstance(type, '', offset, offset, line, line, column, column);
  return [...tokens.slice(0, index), inserted, ...tokens.slice(index)];
}

const foundLineEnd = (message: string) =>
  message.replace(/ but found .*$/s, ' but found the end of the line');

/** The place and message of a syntax error, and what the repair needs to know about it. */
interface Placement {
  located: LocatedError;
  /** The line at the error starts something new: the text before it is unfinished. */
  unfinishedLine: boolean;
  /** For an expression left open by an operator at a line end: the first token after it. */
  resumeAt?: number;
}

/** Openers of the closing brackets that can be left over between statements. */
const OPENERS: Record<string, string> = { ')': '(', ']': '[' };

function place(tokens: IToken[], error: IRecognitionException, index: number): Placement {
  const plain = { located: { error, message: error.message }, unfinishedLine: false };
  // Between statements the parser expects '}', but a ')' or ']' there is one too many.
  const opener = OPENERS[error.token.image];
  const between = error.context?.ruleStack.at(-1) === 'body';
  if (between && opener !== undefined && error.message.startsWith("expected '}'")) {
    const message = `unmatched '${error.token.image}': it closes no open '${opener}'`;
    return { located: { error, message }, unfinishedLine: false };
  }
  // An error found while nothing is open, such as stray text between declarations, stays put.
  if ((error.context?.ruleStack.length ?? 0) <= 1) return plain;
  if (index > 0 && isBoundary(tokens, index)) {
    // A missing '}' is reported where the next statement or declaration starts, not after
    // the last statement of the body.
    if (error.message.startsWith("expected '}'")) return { ...plain, unfinishedLine: true };
    const lineEnd = tokens[index - 1]!;
    const message =
      /^expected (a value|an expression) /.test(error.message) && isOpen(lineEnd)
        ? valueAfter(lineEnd)
        : foundLineEnd(error.message);
    return { located: { error, lineEnd, message }, unfinishedLine: true };
  }
  // An operator ended an earlier line, and its expression took the first tokens of this line.
  const first = firstOfLine(tokens, index);
  const operator = tokens[first - 1];
  if (first > 0 && first < index && isOpen(operator) && isBoundary(tokens, first)) {
    return {
      located: { error, lineEnd: operator, message: valueAfter(operator!) },
      unfinishedLine: false,
      resumeAt: first,
    };
  }
  return plain;
}

const isOpen = (token: IToken | undefined) => OPEN_OPERATORS.some((type) => is(token, type));

const valueAfter = (operator: IToken) =>
  `expected a value after '${operator.image}' but found the end of the line`;

function firstOfLine(tokens: IToken[], index: number): number {
  let k = index;
  while (k > 0 && !isLineStart(tokens, k)) k--;
  return k;
}

/** Returns the tokens to parse after an error at tokens[index] inside a network or block. */
function repairInBody(tokens: IToken[], pass: ParsePass, index: number, at: Placement) {
  if (at.resumeAt !== undefined) {
    const start = lastStart(tokens, pass.statementStarts, at.resumeAt - 1);
    if (start >= 0) return withoutRange(tokens, start, at.resumeAt);
  }
  // An error between statements starts the broken text; one inside a statement cuts it whole.
  const between = pass.error!.context?.ruleStack.at(-1) === 'body';
  const open = lastStart(tokens, pass.openStatements.slice(-1), index);
  const start = between || open < 0 ? index : open;
  if (at.unfinishedLine && start < index) return withoutRange(tokens, start, index);
  const end = statementEnd(tokens, start, index);
  // A '}' that closes the enclosing body ends the cut; if it comes before the error token,
  // that token is dropped alone.
  if (end < index || end === start) return withoutRange(tokens, index, index + 1);
  return withoutRange(tokens, start, end);
}

/** Cuts the declaration around an error outside any body, or stray tokens between them. */
function repairOutsideBody(tokens: IToken[], error: IRecognitionException, index: number) {
  const inDeclaration = (error.context?.ruleStack.length ?? 0) > 1;
  const start = inDeclaration ? declarationStart(tokens, index) : index;
  return withoutRange(tokens, start, nextDeclaration(tokens, Math.max(index, start + 1)));
}

/**
 * Returns the tokens to parse after an error at tokens[index]: a bracket missing at a line end
 * is inserted, and otherwise the broken statement, or declaration, is cut.
 */
function repair(tokens: IToken[], pass: ParsePass, index: number, at: Placement): IToken[] {
  const error = pass.error!;
  const bracket = /^expected '([)\]{}])' but found/.exec(error.message)?.[1];
  if (at.unfinishedLine && bracket !== undefined) {
    return withInserted(tokens, index, BRACKETS[bracket]!, tokens[index - 1]!);
  }
  // The '{' of a body is part of its declaration or statement header.
  const inBody = (error.context?.ruleStack.includes('body') ?? false) && bracket !== '{';
  return inBody ? repairInBody(tokens, pass, index, at) : repairOutsideBody(tokens, error, index);
}

/**
 * Parses `tokens` again and again, each time recording the first syntax error and cutting out
 * the statement or declaration that contains it. Returns the errors in the order found.
 */
export function recoverSyntaxErrors(
  tokens: IToken[],
  parse: (tokens: IToken[]) => ParsePass,
): LocatedError[] {
  const found: LocatedError[] = [];
  let current = tokens;
  for (let passes = 0; passes < MAX_SYNTAX_PASSES; passes++) {
    const pass = parse(current);
    if (pass.error === undefined) break;
    const index = current.indexOf(pass.error.token);
    // At the end of the file nothing is left to check.
    if (index < 0) {
      found.push({ error: pass.error, message: pass.error.message });
      break;
    }
    const placement = place(current, pass.error, index);
    found.push(placement.located);
    const repaired = repair(current, pass, index, placement);
    // The declarations before the one that contains the token before the error parsed, and
    // the repair changed none of them, so the next pass starts at that declaration.
    current = repaired.slice(declarationStart(current, Math.max(0, index - 1)));
  }
  return found;
}
