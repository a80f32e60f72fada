// Syntax error messages in the form "expected X but found 'y'", with the token labels from
// lexer.ts ("a name", "')'") in place of chevrotain's token type names.

import {
  EOF,
  tokenLabel,
  type IParserErrorMessageProvider,
  type IToken,
  type TokenType,
} from 'chevrotain';

/** Describes a token as the user wrote it, or "the end of the file". */
export function describeFound(token: IToken | undefined): string {
  if (token === undefined || token.tokenType === EOF) return 'the end of the file';
  return `'${token.image}'`;
}

function listAlternatives(labels: string[]): string {
  const unique = [...new Set(labels)];
  if (unique.length <= 1) return unique[0] ?? 'something else';
  return `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

function firstTokens(paths: TokenType[][][]): string[] {
  const labels: string[] = [];
  for (const alternative of paths) {
    for (const path of alternative) {
      if (path.length > 0) labels.push(tokenLabel(path[0]!));
    }
  }
  return labels;
}

const RULE_DESCRIPTIONS: Record<string, string> = {
  file: "'import', 'network' or 'block'",
  statement: 'a statement',
  notExpr: 'a value',
  unary: 'a value',
  primary: 'a value',
  expression: 'an expression',
};

export const parserMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    if (expected === EOF) {
      return `expected ${RULE_DESCRIPTIONS.file} but found ${describeFound(actual)}`;
    }
    return `expected ${tokenLabel(expected)} but found ${describeFound(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `expected 'import', 'network' or 'block' but found ${describeFound(firstRedundant)}`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    const expected =
      RULE_DESCRIPTIONS[ruleName] ?? listAlternatives(firstTokens(expectedPathsPerAlt));
    return `expected ${expected} but found ${describeFound(actual[0])}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, ruleName }) {
    const expected =
      RULE_DESCRIPTIONS[ruleName] ?? listAlternatives(firstTokens([expectedIterationPaths]));
    return `expected ${expected} but found ${describeFound(actual[0])}`;
  },
};
