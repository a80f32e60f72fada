// Tokens of the .net layer language. Keywords are declared with `longer_alt: Identifier` so
// that names such as `format` or `inputs` stay identifiers; the token order below is the
// order in which the lexer tries them.

import { createToken, Lexer, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\r\n]+/,
  group: Lexer.SKIPPED,
});
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });

export const Identifier = createToken({
  name: 'Identifier',
  label: 'a name',
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
});

/** A keyword; a soft keyword is also accepted wherever a name is, so `input` can name a value. */
function keyword(word: string, soft = false): TokenType {
  const name = word[0]!.toUpperCase() + word.slice(1);
  return createToken({
    name,
    label: `'${word}'`,
    pattern: new RegExp(word),
    longer_alt: Identifier,
    ...(soft ? { categories: [Identifier] } : {}),
  });
}

export const Import = keyword('import');
export const Network = keyword('network');
export const Block = keyword('block');
export const Input = keyword('input', true);
export const Output = keyword('output', true);
export const Return = keyword('return');
export const Scope = keyword('scope');
export const For = keyword('for');
export const In = keyword('in');
export const If = keyword('if');
export const Else = keyword('else');
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');
export const True = keyword('true');
export const False = keyword('false');
export const None = keyword('none');

// A float needs a fraction or an exponent, so it is tried before the integer pattern.
export const FloatLiteral = createToken({
  name: 'FloatLiteral',
  label: 'a number',
  pattern: /(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/,
});
export const IntLiteral = createToken({ name: 'IntLiteral', label: 'a number', pattern: /\d+/ });
export const StringLiteral = createToken({
  name: 'StringLiteral',
  label: 'a string',
  pattern: /"(?:[^"\\\n]|\\.)*"/,
});
/**
 * A string that reaches the end of its line without the closing quote. It counts as a string
 * for the parser, so the rest of the file still parses, and parse.ts reports it.
 */
export const UnterminatedString = createToken({
  name: 'UnterminatedString',
  label: 'a string',
  pattern: /"(?:[^"\\\n]|\\.)*\\?/,
  categories: [StringLiteral],
});

export const EqualEqual = createToken({ name: 'EqualEqual', label: "'=='", pattern: /==/ });
export const NotEqual = createToken({ name: 'NotEqual', label: "'!='", pattern: /!=/ });
export const LessEqual = createToken({ name: 'LessEqual', label: "'<='", pattern: /<=/ });
export const GreaterEqual = createToken({ name: 'GreaterEqual', label: "'>='", pattern: />=/ });
export const Less = createToken({ name: 'Less', label: "'<'", pattern: /</ });
export const Greater = createToken({ name: 'Greater', label: "'>'", pattern: />/ });
export const Equals = createToken({ name: 'Equals', label: "'='", pattern: /=/ });
export const Power = createToken({ name: 'Power', label: "'**'", pattern: /\*\*/ });
export const FloorDivide = createToken({ name: 'FloorDivide', label: "'//'", pattern: /\/\// });
export const Plus = createToken({ name: 'Plus', label: "'+'", pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', label: "'-'", pattern: /-/ });
export const Star = createToken({ name: 'Star', label: "'*'", pattern: /\*/ });
export const Slash = createToken({ name: 'Slash', label: "'/'", pattern: /\// });
export const Percent = createToken({ name: 'Percent', label: "'%'", pattern: /%/ });
export const Question = createToken({ name: 'Question', label: "'?'", pattern: /\?/ });
export const Ellipsis = createToken({ name: 'Ellipsis', label: "'...'", pattern: /\.\.\./ });
export const Dot = createToken({ name: 'Dot', label: "'.'", pattern: /\./ });
export const Comma = createToken({ name: 'Comma', label: "','", pattern: /,/ });
export const Colon = createToken({ name: 'Colon', label: "':'", pattern: /:/ });
export const Semicolon = createToken({ name: 'Semicolon', label: "';'", pattern: /;/ });
export const LParen = createToken({ name: 'LParen', label: "'('", pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', label: "')'", pattern: /\)/ });
export const LBracket = createToken({ name: 'LBracket', label: "'['", pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', label: "']'", pattern: /]/ });
export const LBrace = createToken({ name: 'LBrace', label: "'{'", pattern: /{/ });
export const RBrace = createToken({ name: 'RBrace', label: "'}'", pattern: /}/ });

export const KEYWORDS = [
  Import,
  Network,
  Block,
  Input,
  Output,
  Return,
  Scope,
  For,
  In,
  If,
  Else,
  And,
  Or,
  Not,
  True,
  False,
  None,
];

export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  Comment,
  ...KEYWORDS,
  Identifier,
  FloatLiteral,
  IntLiteral,
  StringLiteral,
  UnterminatedString,
  EqualEqual,
  NotEqual,
  LessEqual,
  GreaterEqual,
  Less,
  Greater,
  Equals,
  Power,
  FloorDivide,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Question,
  Ellipsis,
  Dot,
  Comma,
  Colon,
  Semicolon,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
];

/** The lexer; `positionTracking: 'full'` gives every token its line and column. */
export const netLexer = new Lexer(ALL_TOKENS, {
  positionTracking: 'full',
  ensureOptimizations: false,
});
