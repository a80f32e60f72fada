// The CST visitor: turns the parser's concrete syntax tree into the typed AST of ast.ts.
// It runs only on a tree without syntax errors, so every required child is present.

import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Diagnostic, SourceSpan } from './diagnostics.js';
import { netParser } from './parser.js';
import { parseStringParts, type EmbeddedParser } from './strings.js';

type Children = Record<string, (CstNode | IToken)[] | undefined>;

const BaseVisitor = netParser.getBaseCstVisitorConstructor();

function tokens(ctx: Children, key: string): IToken[] {
  return (ctx[key] ?? []) as IToken[];
}

function nodes(ctx: Children, key: string): CstNode[] {
  return (ctx[key] ?? []) as CstNode[];
}

function token(ctx: Children, key: string): IToken {
  return tokens(ctx, key)[0]!;
}

function node(ctx: Children, key: string): CstNode {
  return nodes(ctx, key)[0]!;
}

/** Orders tokens by position; binary rules label all their operators `op`. */
function byOffset(a: IToken, b: IToken): number {
  return a.startOffset - b.startOffset;
}

export class AstBuilder extends BaseVisitor {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly path: string,
    private readonly parseEmbedded: EmbeddedParser,
  ) {
    super();
    this.validateVisitor();
  }

  span(tok: IToken): SourceSpan {
    return {
      file: this.path,
      line: tok.startLine ?? 1,
      column: tok.startColumn ?? 1,
      length: tok.image.length,
    };
  }

  // ---- declarations ----

  file(ctx: Children): A.NetFile {
    return {
      path: this.path,
      imports: nodes(ctx, 'importDecl').map((n) => this.visit(n)),
      decls: [...nodes(ctx, 'networkDecl'), ...nodes(ctx, 'blockDecl')]
        .map((n) => this.visit(n) as A.Decl)
        .sort((a, b) => a.span.line - b.span.line || a.span.column - b.span.column),
    };
  }

  importDecl(ctx: Children): A.Import {
    const path = token(ctx, 'path');
    return { path: JSON.parse(path.image) as string, span: this.span(path) };
  }

  networkDecl(ctx: Children): A.Decl {
    return this.declaration('network', ctx);
  }

  blockDecl(ctx: Children): A.Decl {
    return this.declaration('block', ctx);
  }

  private declaration(kind: 'network' | 'block', ctx: Children): A.Decl {
    const name = token(ctx, 'name');
    return {
      kind,
      name: name.image,
      params: this.visit(node(ctx, 'paramList')),
      body: this.visit(node(ctx, 'body')),
      span: this.span(name),
    };
  }

  paramList(ctx: Children): A.Param[] {
    return nodes(ctx, 'param').map((n) => this.visit(n));
  }

  param(ctx: Children): A.Param {
    const name = token(ctx, 'name');
    const param: A.Param = { name: name.image, span: this.span(name) };
    if (ctx.typeRef) param.type = this.visit(node(ctx, 'typeRef'));
    if (ctx.default) param.default = this.visit(node(ctx, 'default'));
    return param;
  }

  typeRef(ctx: Children): A.TypeRef {
    const name = token(ctx, 'name');
    return { name: name.image, optional: ctx.optional !== undefined, span: this.span(name) };
  }

  body(ctx: Children): A.Stmt[] {
    return nodes(ctx, 'statement').map((n) => this.visit(n));
  }

  // ---- statements ----

  statement(ctx: Children): A.Stmt {
    const [child] = Object.entries(ctx).find(([key]) => key.endsWith('Stmt'))!;
    return this.visit(node(ctx, child));
  }

  inputStmt(ctx: Children): A.Stmt {
    const name = token(ctx, 'name');
    return {
      kind: 'input',
      name: name.image,
      shape: this.visit(node(ctx, 'shape')),
      span: this.span(name),
    };
  }

  outputStmt(ctx: Children): A.Stmt {
    const name = token(ctx, 'name');
    const stmt: A.Stmt = { kind: 'output', name: name.image, span: this.span(name) };
    if (ctx.value) stmt.value = this.visit(node(ctx, 'value'));
    return stmt;
  }

  returnStmt(ctx: Children): A.Stmt {
    return {
      kind: 'return',
      values: nodes(ctx, 'expression').map((n) => this.visit(n)),
      span: this.span(token(ctx, 'Return')),
    };
  }

  forStmt(ctx: Children): A.Stmt {
    const item = token(ctx, 'item');
    const stmt: A.Stmt = {
      kind: 'for',
      item: { name: item.image, span: this.span(item) },
      iterable: this.visit(node(ctx, 'iterable')),
      body: this.visit(node(ctx, 'body')),
      span: this.span(token(ctx, 'For')),
    };
    if (ctx.index) {
      const index = token(ctx, 'index');
      stmt.index = { name: index.image, span: this.span(index) };
    }
    return stmt;
  }

  ifStmt(ctx: Children): A.Stmt {
    let otherwise: A.Stmt[] = [];
    if (ctx.elseIf) otherwise = [this.visit(node(ctx, 'elseIf'))];
    if (ctx.otherwise) otherwise = this.visit(node(ctx, 'otherwise'));
    return {
      kind: 'if',
      condition: this.visit(node(ctx, 'condition')),
      then: this.visit(node(ctx, 'then')),
      otherwise,
      span: this.span(token(ctx, 'If')),
    };
  }

  scopeStmt(ctx: Children): A.Stmt {
    return {
      kind: 'scope',
      prefix: this.visit(node(ctx, 'prefix')),
      body: this.visit(node(ctx, 'body')),
      span: this.span(token(ctx, 'Scope')),
    };
  }

  assignStmt(ctx: Children): A.Stmt {
    const targets = tokens(ctx, 'target').map((t) => ({ name: t.image, span: this.span(t) }));
    return {
      kind: 'assign',
      targets,
      value: this.visit(node(ctx, 'value')),
      span: targets[0]!.span,
    };
  }

  exprStmt(ctx: Children): A.Stmt {
    const callee = token(ctx, 'callee');
    const name: A.Expr = { kind: 'name', name: callee.image, span: this.span(callee) };
    const value: A.Expr = this.visit(node(ctx, 'callSuffix'), name);
    return { kind: 'expression', value, span: value.span };
  }

  // ---- expressions ----

  expression(ctx: Children): A.Expr {
    const condition: A.Expr = this.visit(node(ctx, 'condition'));
    if (!ctx.then) return condition;
    return {
      kind: 'conditional',
      condition,
      then: this.visit(node(ctx, 'then')),
      otherwise: this.visit(node(ctx, 'otherwise')),
      span: condition.span,
    };
  }

  private leftAssociative(ctx: Children): A.Expr {
    const operands = nodes(ctx, 'operand').map((n) => this.visit(n) as A.Expr);
    const ops = tokens(ctx, 'op').sort(byOffset);
    let result = operands[0]!;
    ops.forEach((op, i) => {
      const right = operands[i + 1]!;
      const operator = op.image as A.BinaryOperator;
      result = { kind: 'binary', op: operator, left: result, right, span: this.span(op) };
    });
    return result;
  }

  orExpr(ctx: Children): A.Expr {
    return this.leftAssociative(ctx);
  }

  andExpr(ctx: Children): A.Expr {
    return this.leftAssociative(ctx);
  }

  comparison(ctx: Children): A.Expr {
    return this.leftAssociative(ctx);
  }

  additive(ctx: Children): A.Expr {
    return this.leftAssociative(ctx);
  }

  multiplicative(ctx: Children): A.Expr {
    return this.leftAssociative(ctx);
  }

  notExpr(ctx: Children): A.Expr {
    const operand: A.Expr = this.visit(node(ctx, 'operand'));
    if (!ctx.op) return operand;
    return { kind: 'unary', op: 'not', operand, span: this.span(token(ctx, 'op')) };
  }

  unary(ctx: Children): A.Expr {
    const operand: A.Expr = this.visit(node(ctx, 'operand'));
    if (!ctx.op) return operand;
    return { kind: 'unary', op: '-', operand, span: this.span(token(ctx, 'op')) };
  }

  power(ctx: Children): A.Expr {
    const base: A.Expr = this.visit(node(ctx, 'base'));
    if (!ctx.exponent) return base;
    const span = this.span(token(ctx, 'Power'));
    return { kind: 'binary', op: '**', left: base, right: this.visit(node(ctx, 'exponent')), span };
  }

  postfix(ctx: Children): A.Expr {
    let result: A.Expr = this.visit(node(ctx, 'primary'));
    for (const suffix of nodes(ctx, 'suffix')) result = this.visit(suffix, result);
    return result;
  }

  callSuffix(ctx: Children, callee: A.Expr): A.Expr {
    const args = nodes(ctx, 'argument').map((n) => this.visit(n) as A.Argument);
    return { kind: 'call', callee, args, span: callee.span };
  }

  argument(ctx: Children): A.Argument {
    const value: A.Expr = this.visit(node(ctx, 'value'));
    if (ctx.spread) return { spread: true, value };
    if (!ctx.name) return { value };
    const name = token(ctx, 'name');
    return { name: name.image, nameSpan: this.span(name), value };
  }

  indexSuffix(ctx: Children, target: A.Expr): A.Expr {
    const span = this.span(token(ctx, 'LBracket'));
    const start: A.Expr | undefined = ctx.start ? this.visit(node(ctx, 'start')) : undefined;
    if (!ctx.colon) {
      if (start === undefined) {
        this.diagnostics.push({ span, message: "expected an index between '[' and ']'" });
        return target;
      }
      return { kind: 'index', target, index: start, span };
    }
    const slice: A.Expr = { kind: 'slice', target, span };
    if (start) slice.start = start;
    if (ctx.end) slice.end = this.visit(node(ctx, 'end'));
    return slice;
  }

  memberSuffix(ctx: Children, target: A.Expr): A.Expr {
    const name = token(ctx, 'name');
    return { kind: 'member', target, name: name.image, span: this.span(name) };
  }

  primary(ctx: Children): A.Expr {
    if (ctx.group) return this.visit(node(ctx, 'group'));
    if (ctx.listLiteral) return this.visit(node(ctx, 'listLiteral'));
    if (ctx.recordLiteral) return this.visit(node(ctx, 'recordLiteral'));
    if (ctx.name) {
      const name = token(ctx, 'name');
      return { kind: 'name', name: name.image, span: this.span(name) };
    }
    return this.literal(token(ctx, 'literal'));
  }

  private literal(tok: IToken): A.Expr {
    const span = this.span(tok);
    switch (tok.tokenType.name) {
      case 'IntLiteral':
        return { kind: 'number', value: Number(tok.image), isInteger: true, span };
      case 'FloatLiteral':
        return { kind: 'number', value: Number(tok.image), isInteger: false, span };
      case 'True':
      case 'False':
        return { kind: 'bool', value: tok.tokenType.name === 'True', span };
      case 'None':
        return { kind: 'none', span };
      default: {
        const parsed = parseStringParts(tok, this.path, this.parseEmbedded);
        this.diagnostics.push(...parsed.diagnostics);
        return { kind: 'string', parts: parsed.parts, span };
      }
    }
  }

  listLiteral(ctx: Children): A.Expr {
    const items = nodes(ctx, 'listItem').map((n) => this.visit(n) as A.ListItem);
    return { kind: 'list', items, span: this.span(token(ctx, 'LBracket')) };
  }

  recordLiteral(ctx: Children): A.Expr {
    const fields = nodes(ctx, 'recordField').map((n) => this.visit(n) as A.RecordField);
    return { kind: 'record', fields, span: this.span(token(ctx, 'LBrace')) };
  }

  recordField(ctx: Children): A.RecordField {
    const value: A.Expr = this.visit(node(ctx, 'value'));
    if (ctx.spread) return { spread: true, name: '', span: value.span, value };
    const name = token(ctx, 'name');
    return { name: name.image, span: this.span(name), value };
  }

  listItem(ctx: Children): A.ListItem {
    return { spread: ctx.spread !== undefined, value: this.visit(node(ctx, 'value')) };
  }
}
