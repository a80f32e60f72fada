// The typed syntax tree of a .net file, built from the CST by visitor.ts. Every node carries
// the span of its first token so that elaboration errors point at the source.

import type { SourceSpan } from './diagnostics.js';

export type BinaryOperator =
  | '+'
  | '-'
  | '*'
  | '/'
  | '//'
  | '%'
  | '**'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'in'
  | 'and'
  | 'or';

export type Expr =
  | { kind: 'number'; value: number; isInteger: boolean; span: SourceSpan }
  | { kind: 'string'; parts: (string | Expr)[]; span: SourceSpan }
  | { kind: 'bool'; value: boolean; span: SourceSpan }
  | { kind: 'none'; span: SourceSpan }
  | { kind: 'name'; name: string; span: SourceSpan }
  | { kind: 'list'; items: ListItem[]; span: SourceSpan }
  | { kind: 'record'; fields: RecordField[]; span: SourceSpan }
  | { kind: 'unary'; op: '-' | 'not'; operand: Expr; span: SourceSpan }
  | { kind: 'binary'; op: BinaryOperator; left: Expr; right: Expr; span: SourceSpan }
  | { kind: 'conditional'; condition: Expr; then: Expr; otherwise: Expr; span: SourceSpan }
  | { kind: 'call'; callee: Expr; args: Argument[]; span: SourceSpan }
  | { kind: 'index'; target: Expr; index: Expr; span: SourceSpan }
  | { kind: 'slice'; target: Expr; start?: Expr; end?: Expr; span: SourceSpan }
  | { kind: 'member'; target: Expr; name: string; span: SourceSpan };

export interface ListItem {
  spread: boolean;
  value: Expr;
}

/** A field `name: value`, or with `spread` the fields of another record (`...other`). */
export interface RecordField {
  spread?: boolean;
  name: string;
  span: SourceSpan;
  value: Expr;
}

/**
 * A call argument: positional when `name` is absent, named (`kernelSize: 3`) otherwise, or a
 * spread (`...args`) of a list's items as positional or a record's fields as named arguments.
 */
export interface Argument {
  spread?: boolean;
  name?: string;
  nameSpan?: SourceSpan;
  value: Expr;
}

export interface Target {
  name: string;
  span: SourceSpan;
}

export type Stmt =
  | { kind: 'input'; name: string; shape: Expr; span: SourceSpan }
  | { kind: 'output'; name: string; value?: Expr; span: SourceSpan }
  | { kind: 'return'; values: Expr[]; span: SourceSpan }
  | { kind: 'assign'; targets: Target[]; value: Expr; span: SourceSpan }
  | { kind: 'expression'; value: Expr; span: SourceSpan }
  | { kind: 'for'; item: Target; index?: Target; iterable: Expr; body: Stmt[]; span: SourceSpan }
  | { kind: 'if'; condition: Expr; then: Stmt[]; otherwise: Stmt[]; span: SourceSpan }
  | { kind: 'scope'; prefix: Expr; body: Stmt[]; span: SourceSpan };

/** Parameter types: scalars, lists of scalars, `tensor` (block inputs) and `any`. */
export const TYPE_NAMES = [
  'int',
  'float',
  'bool',
  'str',
  'ints',
  'floats',
  'strs',
  'list',
  'record',
  'tensor',
  'any',
] as const;
export type TypeName = (typeof TYPE_NAMES)[number];

export interface TypeRef {
  name: string;
  /** `int?` also accepts `none`. */
  optional: boolean;
  span: SourceSpan;
}

export interface Param {
  name: string;
  type?: TypeRef;
  default?: Expr;
  span: SourceSpan;
}

export interface Decl {
  kind: 'network' | 'block';
  name: string;
  params: Param[];
  body: Stmt[];
  span: SourceSpan;
}

export interface Import {
  path: string;
  span: SourceSpan;
}

export interface NetFile {
  path: string;
  imports: Import[];
  decls: Decl[];
}
