// The grammar of the .net layer language as a chevrotain CstParser. The rules build a concrete
// syntax tree only; visitor.ts turns it into the AST. The parser stops at the first syntax
// error: recovery.ts removes the broken statement and parses again, so that one run still
// reports every syntax error of a file.

import { CstParser, type IToken } from 'chevrotain';
import * as T from './lexer.js';
import { parserMessages } from './parser-messages.js';

export class NetParser extends CstParser {
  /** The first token of every statement that the last parse entered, in input order. */
  statementStarts: IToken[] = [];
  /**
   * The first tokens of the statements that the last parse entered and did not finish, the
   * innermost last. After a syntax error they are the statements that contain it.
   */
  openStatements: IToken[] = [];

  constructor() {
    // chevrotain's own recovery is off: it resynchronises on token types only, and in a grammar
    // without line breaks it repeats one error at the same token or skips the rest of the file.
    super(T.ALL_TOKENS, {
      recoveryEnabled: false,
      maxLookahead: 3,
      errorMessageProvider: parserMessages,
    });
    this.performSelfAnalysis();
  }

  /** Sets the tokens to parse and clears the state of the previous parse. */
  restart(tokens: IToken[]): void {
    this.input = tokens;
    this.statementStarts = [];
    this.openStatements = [];
  }

  // ---- declarations ----

  file = this.RULE('file', () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.importDecl) },
        { ALT: () => this.SUBRULE(this.networkDecl) },
        { ALT: () => this.SUBRULE(this.blockDecl) },
      ]);
    });
  });

  importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.StringLiteral, { LABEL: 'path' });
  });

  networkDecl = this.RULE('networkDecl', () => {
    this.CONSUME(T.Network);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.SUBRULE(this.paramList);
    this.SUBRULE(this.body);
  });

  blockDecl = this.RULE('blockDecl', () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.SUBRULE(this.paramList);
    this.SUBRULE(this.body);
  });

  paramList = this.RULE('paramList', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.param) });
    this.CONSUME(T.RParen);
  });

  param = this.RULE('param', () => {
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeRef);
    });
    this.OPTION2(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression, { LABEL: 'default' });
    });
  });

  typeRef = this.RULE('typeRef', () => {
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.OPTION(() => this.CONSUME(T.Question, { LABEL: 'optional' }));
  });

  body = this.RULE('body', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(T.RBrace);
  });

  // ---- statements ----

  statement = this.RULE('statement', () => {
    this.ACTION(() => {
      this.statementStarts.push(this.LA(1));
      this.openStatements.push(this.LA(1));
    });
    this.OR([
      { ALT: () => this.SUBRULE(this.inputStmt) },
      { ALT: () => this.SUBRULE(this.outputStmt) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { ALT: () => this.SUBRULE(this.forStmt) },
      { ALT: () => this.SUBRULE(this.ifStmt) },
      { ALT: () => this.SUBRULE(this.scopeStmt) },
      { ALT: () => this.SUBRULE(this.assignStmt) },
      { ALT: () => this.SUBRULE(this.exprStmt) },
    ]);
    this.OPTION(() => this.CONSUME(T.Semicolon));
    this.ACTION(() => this.openStatements.pop());
  });

  inputStmt = this.RULE('inputStmt', () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expression, { LABEL: 'shape' });
  });

  outputStmt = this.RULE('outputStmt', () => {
    this.CONSUME(T.Output);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression, { LABEL: 'value' });
    });
  });

  returnStmt = this.RULE('returnStmt', () => {
    this.CONSUME(T.Return);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
  });

  forStmt = this.RULE('forStmt', () => {
    this.CONSUME(T.For);
    this.CONSUME(T.Identifier, { LABEL: 'item' });
    this.OPTION(() => {
      this.CONSUME(T.Comma);
      this.CONSUME2(T.Identifier, { LABEL: 'index' });
    });
    this.CONSUME(T.In);
    this.SUBRULE(this.expression, { LABEL: 'iterable' });
    this.SUBRULE(this.body);
  });

  ifStmt = this.RULE('ifStmt', () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expression, { LABEL: 'condition' });
    this.SUBRULE(this.body, { LABEL: 'then' });
    this.OPTION(() => {
      this.CONSUME(T.Else);
      this.OR([
        { ALT: () => this.SUBRULE(this.ifStmt, { LABEL: 'elseIf' }) },
        { ALT: () => this.SUBRULE2(this.body, { LABEL: 'otherwise' }) },
      ]);
    });
  });

  scopeStmt = this.RULE('scopeStmt', () => {
    this.CONSUME(T.Scope);
    this.SUBRULE(this.expression, { LABEL: 'prefix' });
    this.SUBRULE(this.body);
  });

  assignStmt = this.RULE('assignStmt', () => {
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => this.CONSUME(T.Identifier, { LABEL: 'target' }),
    });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });

  /**
   * A call whose result is not kept, such as `error("...")`. Only `name(...)` may start a
   * statement, so a line starting with '(', '[' or '-' always continues the previous one.
   */
  exprStmt = this.RULE('exprStmt', () => {
    this.CONSUME(T.Identifier, { LABEL: 'callee' });
    this.SUBRULE(this.callSuffix);
  });

  // ---- expressions, loosest binding first ----

  expression = this.RULE('expression', () => {
    this.SUBRULE(this.orExpr, { LABEL: 'condition' });
    this.OPTION(() => {
      this.CONSUME(T.Question);
      this.SUBRULE(this.expression, { LABEL: 'then' });
      this.CONSUME(T.Colon);
      this.SUBRULE2(this.expression, { LABEL: 'otherwise' });
    });
  });

  orExpr = this.RULE('orExpr', () => {
    this.SUBRULE(this.andExpr, { LABEL: 'operand' });
    this.MANY(() => {
      this.CONSUME(T.Or, { LABEL: 'op' });
      this.SUBRULE2(this.andExpr, { LABEL: 'operand' });
    });
  });

  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr, { LABEL: 'operand' });
    this.MANY(() => {
      this.CONSUME(T.And, { LABEL: 'op' });
      this.SUBRULE2(this.notExpr, { LABEL: 'operand' });
    });
  });

  notExpr = this.RULE('notExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not, { LABEL: 'op' });
          this.SUBRULE(this.notExpr, { LABEL: 'operand' });
        },
      },
      { ALT: () => this.SUBRULE(this.comparison, { LABEL: 'operand' }) },
    ]);
  });

  comparison = this.RULE('comparison', () => {
    this.SUBRULE(this.additive, { LABEL: 'operand' });
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.EqualEqual, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.NotEqual, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.LessEqual, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.GreaterEqual, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.Less, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.Greater, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.In, { LABEL: 'op' }) },
      ]);
      this.SUBRULE2(this.additive, { LABEL: 'operand' });
    });
  });

  additive = this.RULE('additive', () => {
    this.SUBRULE(this.multiplicative, { LABEL: 'operand' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Plus, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.Minus, { LABEL: 'op' }) },
      ]);
      this.SUBRULE2(this.multiplicative, { LABEL: 'operand' });
    });
  });

  multiplicative = this.RULE('multiplicative', () => {
    this.SUBRULE(this.unary, { LABEL: 'operand' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.FloorDivide, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.Slash, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.Percent, { LABEL: 'op' }) },
      ]);
      this.SUBRULE2(this.unary, { LABEL: 'operand' });
    });
  });

  unary = this.RULE('unary', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus, { LABEL: 'op' });
          this.SUBRULE(this.unary, { LABEL: 'operand' });
        },
      },
      { ALT: () => this.SUBRULE(this.power, { LABEL: 'operand' }) },
    ]);
  });

  power = this.RULE('power', () => {
    this.SUBRULE(this.postfix, { LABEL: 'base' });
    this.OPTION(() => {
      this.CONSUME(T.Power);
      this.SUBRULE(this.unary, { LABEL: 'exponent' });
    });
  });

  postfix = this.RULE('postfix', () => {
    this.SUBRULE(this.primary);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.callSuffix, { LABEL: 'suffix' }) },
        { ALT: () => this.SUBRULE(this.indexSuffix, { LABEL: 'suffix' }) },
        { ALT: () => this.SUBRULE(this.memberSuffix, { LABEL: 'suffix' }) },
      ]);
    });
  });

  callSuffix = this.RULE('callSuffix', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
    this.CONSUME(T.RParen);
  });

  /** `value`, `name: value`, or `...values` to pass a list or record's items. */
  argument = this.RULE('argument', () => {
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Ellipsis, { LABEL: 'spread' }) },
        {
          ALT: () => {
            this.CONSUME(T.Identifier, { LABEL: 'name' });
            this.CONSUME(T.Colon);
          },
        },
      ]);
    });
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });

  indexSuffix = this.RULE('indexSuffix', () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => this.SUBRULE(this.expression, { LABEL: 'start' }));
    this.OPTION2(() => {
      this.CONSUME(T.Colon, { LABEL: 'colon' });
      this.OPTION3(() => this.SUBRULE2(this.expression, { LABEL: 'end' }));
    });
    this.CONSUME(T.RBracket);
  });

  memberSuffix = this.RULE('memberSuffix', () => {
    this.CONSUME(T.Dot);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.IntLiteral, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(T.FloatLiteral, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(T.StringLiteral, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(T.True, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(T.False, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(T.None, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(T.Identifier, { LABEL: 'name' }) },
      { ALT: () => this.SUBRULE(this.listLiteral) },
      { ALT: () => this.SUBRULE(this.recordLiteral) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expression, { LABEL: 'group' });
          this.CONSUME(T.RParen);
        },
      },
    ]);
  });

  listLiteral = this.RULE('listLiteral', () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.listItem) });
    this.CONSUME(T.RBracket);
  });

  /** `{alpha: 0.5, ...defaults}`: named values, as the arguments of a layer. */
  recordLiteral = this.RULE('recordLiteral', () => {
    this.CONSUME(T.LBrace);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.recordField) });
    this.CONSUME(T.RBrace);
  });

  /** `name: value`, or `...other` to copy another record's fields. */
  recordField = this.RULE('recordField', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Ellipsis, { LABEL: 'spread' }) },
      {
        ALT: () => {
          this.CONSUME(T.Identifier, { LABEL: 'name' });
          this.CONSUME(T.Colon);
        },
      },
    ]);
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });

  listItem = this.RULE('listItem', () => {
    this.OPTION(() => this.CONSUME(T.Ellipsis, { LABEL: 'spread' }));
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });
}

/** One parser instance is reused: chevrotain parsers are stateful but cheap to reset. */
export const netParser = new NetParser();
