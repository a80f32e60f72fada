// Evaluation of expressions on parameter values: arithmetic, comparisons, lists, strings with
// interpolation, indexing, slicing and the built-in functions. Calls of layers and blocks are
// passed to the elaborator through the `callLayer` hook.

import type { Argument, BinaryOperator, Expr } from './ast.js';
import { DiagnosticError, type SourceSpan } from './diagnostics.js';
import { BUILTINS, checkListLength } from './builtins.js';
import { closestName } from '../graph/suggest.js';
import {
  isRecord,
  isTensor,
  showValue,
  truthy,
  typeName,
  valuesEqual,
  type NetValue,
  type RecordValue,
} from './values.js';

/**
 * Thrown when an expression reads a name whose statement failed. That statement's error is
 * already reported, so the statement that reads the name is skipped without a second one.
 */
export class FailedNameError extends Error {
  constructor(readonly variable: string) {
    super(`'${variable}' was not set because its statement failed`);
  }
}

/** Variables of one network or block body; loops and conditionals share their body's scope. */
export class Env {
  private readonly vars = new Map<string, NetValue>();
  /** Names that a failed statement should have set. */
  private readonly failed = new Set<string>();

  get(name: string): NetValue | undefined {
    if (this.failed.has(name)) throw new FailedNameError(name);
    return this.vars.get(name);
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  set(name: string, value: NetValue): void {
    this.vars.set(name, value);
    this.failed.delete(name);
  }

  /** Marks a name as set by a statement that failed, so later reads skip their statement. */
  markFailed(name: string): void {
    this.vars.delete(name);
    this.failed.add(name);
  }

  delete(name: string): void {
    this.vars.delete(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }
}

export interface EvaluatedArgs {
  positional: { value: NetValue; span: SourceSpan }[];
  named: Map<string, { value: NetValue; span: SourceSpan }>;
}

export type CallHook = (name: string, args: EvaluatedArgs, span: SourceSpan) => NetValue;

export function fail(span: SourceSpan, message: string, suggestion?: string): never {
  const diagnostic = suggestion === undefined ? { span, message } : { span, message, suggestion };
  throw new DiagnosticError(diagnostic);
}

export class Evaluator {
  constructor(
    private readonly callLayer: CallHook,
    /** Names that are callable (layers, blocks, built-ins), for "did you mean" on names. */
    private readonly callableNames: () => string[],
  ) {}

  evaluate(expr: Expr, env: Env): NetValue {
    switch (expr.kind) {
      case 'number':
      case 'bool':
        return expr.value;
      case 'none':
        return null;
      case 'string':
        return expr.parts.map((part) => this.interpolate(part, env)).join('');
      case 'name':
        return this.lookup(expr.name, expr.span, env);
      case 'list':
        return this.list(expr, env);
      case 'record':
        return this.record(expr, env);
      case 'unary':
        return this.unary(expr.op, this.evaluate(expr.operand, env), expr.span);
      case 'binary':
        return this.binary(expr, env);
      case 'conditional':
        return truthy(this.evaluate(expr.condition, env))
          ? this.evaluate(expr.then, env)
          : this.evaluate(expr.otherwise, env);
      case 'call':
        return this.call(expr, env);
      case 'index':
        return this.index(this.evaluate(expr.target, env), this.evaluate(expr.index, env), expr);
      case 'slice':
        return this.slice(expr, env);
      case 'member':
        return this.member(this.evaluate(expr.target, env), expr.name, expr.span);
    }
  }

  private interpolate(part: string | Expr, env: Env): string {
    if (typeof part === 'string') return part;
    const value = this.evaluate(part, env);
    if (typeof value === 'string') return value;
    if (isTensor(value)) fail(part.span, 'a tensor cannot be written into a string');
    return showValue(value);
  }

  private lookup(name: string, span: SourceSpan, env: Env): NetValue {
    const value = env.get(name);
    if (value !== undefined) return value;
    const known = [...env.names(), ...this.callableNames()];
    const hint = closestName(name, known);
    const callable = this.callableNames().includes(name);
    const message = callable
      ? `'${name}' is a layer or function: call it with arguments, as ${name}(...)`
      : `unknown name '${name}'`;
    fail(span, message, callable ? undefined : hint);
  }

  private list(expr: Extract<Expr, { kind: 'list' }>, env: Env): NetValue[] {
    const result: NetValue[] = [];
    for (const item of expr.items) {
      const value = this.evaluate(item.value, env);
      if (!item.spread) {
        result.push(value);
      } else if (Array.isArray(value)) {
        result.push(...value);
      } else {
        fail(item.value.span, `'...' needs a list but got ${typeName(value)} ${showValue(value)}`);
      }
    }
    return result;
  }

  private record(expr: Extract<Expr, { kind: 'record' }>, env: Env): RecordValue {
    const fields = new Map<string, NetValue>();
    const explicit = new Set<string>();
    for (const field of expr.fields) {
      const value = this.evaluate(field.value, env);
      if (field.spread) {
        if (!isRecord(value)) {
          fail(field.span, `'...' in a record needs a record but got ${typeName(value)}`);
        }
        for (const [name, item] of value.fields) fields.set(name, item);
        continue;
      }
      if (explicit.has(field.name)) fail(field.span, `field '${field.name}' given twice`);
      explicit.add(field.name);
      fields.set(field.name, value);
    }
    return { kind: 'record', fields };
  }

  private unary(op: '-' | 'not', value: NetValue, span: SourceSpan): NetValue {
    if (op === 'not') return !truthy(value);
    if (typeof value !== 'number') fail(span, `'-' needs a number but got ${typeName(value)}`);
    return -value;
  }

  private binary(expr: Extract<Expr, { kind: 'binary' }>, env: Env): NetValue {
    const left = this.evaluate(expr.left, env);
    if (expr.op === 'and') return truthy(left) ? this.evaluate(expr.right, env) : left;
    if (expr.op === 'or') return truthy(left) ? left : this.evaluate(expr.right, env);
    const right = this.evaluate(expr.right, env);
    return applyBinary(expr.op, left, right, expr.span);
  }

  private call(expr: Extract<Expr, { kind: 'call' }>, env: Env): NetValue {
    if (expr.callee.kind !== 'name') {
      fail(expr.span, 'only layers, blocks and built-in functions can be called, by name');
    }
    const args = this.arguments(expr.args, env);
    const builtin = BUILTINS[expr.callee.name];
    // `max` and `sum` are also layers: a call with a tensor argument goes to the layer.
    const onTensors = args.positional.some((given) => isTensor(given.value));
    if (builtin && !onTensors) return builtin(args, expr.span);
    return this.callLayer(expr.callee.name, args, expr.span);
  }

  private arguments(args: Argument[], env: Env): EvaluatedArgs {
    const result: EvaluatedArgs = { positional: [], named: new Map() };
    for (const arg of args) {
      const value = this.evaluate(arg.value, env);
      if (arg.spread) {
        this.spreadArgument(value, arg.value.span, result);
      } else if (arg.name === undefined) {
        if (result.named.size > 0) {
          fail(arg.value.span, 'a positional argument cannot follow a named argument');
        }
        result.positional.push({ value, span: arg.value.span });
      } else {
        if (result.named.has(arg.name)) fail(arg.nameSpan!, `argument '${arg.name}' given twice`);
        result.named.set(arg.name, { value, span: arg.nameSpan! });
      }
    }
    return result;
  }

  /** Passes a list's items as positional arguments or a record's fields as named ones. */
  private spreadArgument(value: NetValue, span: SourceSpan, result: EvaluatedArgs): void {
    if (Array.isArray(value)) {
      if (result.named.size > 0) fail(span, 'a positional argument cannot follow a named argument');
      for (const item of value) result.positional.push({ value: item, span });
    } else if (isRecord(value)) {
      for (const [name, field] of value.fields) {
        if (result.named.has(name)) fail(span, `argument '${name}' given twice`);
        result.named.set(name, { value: field, span });
      }
    } else {
      fail(span, `'...' needs a list or a record but got ${typeName(value)}`);
    }
  }

  private index(target: NetValue, index: NetValue, expr: Extract<Expr, { kind: 'index' }>) {
    if (!Array.isArray(target) && typeof target !== 'string') {
      fail(expr.span, `only lists and strings can be indexed, not ${typeName(target)}`);
    }
    if (typeof index !== 'number' || !Number.isInteger(index)) {
      fail(expr.index.span, `an index must be an int but got ${typeName(index)}`);
    }
    const position = index < 0 ? target.length + index : index;
    if (position < 0 || position >= target.length) {
      fail(expr.index.span, `index ${index} is out of range for length ${target.length}`);
    }
    return target[position]!;
  }

  private slice(expr: Extract<Expr, { kind: 'slice' }>, env: Env): NetValue {
    const target = this.evaluate(expr.target, env);
    if (!Array.isArray(target)) {
      fail(expr.span, `only lists can be sliced, not ${typeName(target)}`);
    }
    const bound = (bound: Expr | undefined, fallback: number): number => {
      if (bound === undefined) return fallback;
      const value = this.evaluate(bound, env);
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        fail(bound.span, `a slice bound must be an int but got ${typeName(value)}`);
      }
      return value;
    };
    return target.slice(bound(expr.start, 0), bound(expr.end, target.length));
  }

  private member(target: NetValue, name: string, span: SourceSpan): NetValue {
    if (isTensor(target) && name === 'shape') return [...target.value.shape];
    if (isRecord(target)) {
      const field = target.fields.get(name);
      if (field !== undefined) return field;
      const known = [...target.fields.keys()];
      fail(span, `the record has no field '${name}'`, closestName(name, known));
    }
    if (isTensor(target)) {
      fail(span, `a tensor has no field '${name}'`, closestName(name, ['shape']));
    }
    fail(span, `'.${name}' needs a tensor but got ${typeName(target)}`);
  }
}

function numbers(op: string, left: NetValue, right: NetValue, span: SourceSpan): [number, number] {
  if (typeof left === 'number' && typeof right === 'number') return [left, right];
  fail(span, `'${op}' needs two numbers but got ${typeName(left)} and ${typeName(right)}`);
}

/** Applies an arithmetic or comparison operator; `+` also joins lists and strings. */
export function applyBinary(op: BinaryOperator, left: NetValue, right: NetValue, span: SourceSpan) {
  switch (op) {
    case '+':
      if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
      if (typeof left === 'string' && typeof right === 'string') return left + right;
      return add(...numbers(op, left, right, span));
    case '*':
      if (Array.isArray(left) && typeof right === 'number') return repeat(left, right, span);
      return multiply(...numbers(op, left, right, span));
    case '-':
      return subtract(...numbers(op, left, right, span));
    case '/':
    case '//':
    case '%':
      return divide(op, ...numbers(op, left, right, span), span);
    case '**':
      return power(...numbers(op, left, right, span));
    case '==':
      return valuesEqual(left, right);
    case '!=':
      return !valuesEqual(left, right);
    case 'in':
      if (isRecord(right)) return typeof left === 'string' && right.fields.has(left);
      if (!Array.isArray(right)) {
        fail(span, `'in' needs a list or a record on its right, not ${typeName(right)}`);
      }
      return right.some((item) => valuesEqual(item, left));
    default:
      return compare(op, left, right, span);
  }
}

const add = (a: number, b: number) => a + b;
const subtract = (a: number, b: number) => a - b;
const multiply = (a: number, b: number) => a * b;
const power = (a: number, b: number) => a ** b;

function repeat(list: NetValue[], times: number, span: SourceSpan): NetValue[] {
  if (!Number.isInteger(times) || times < 0) {
    fail(span, 'a list can be repeated only by an int >= 0');
  }
  checkListLength(list.length * times, span);
  return Array.from({ length: times }, () => list).flat();
}

function divide(op: '/' | '//' | '%', a: number, b: number, span: SourceSpan): number {
  if (b === 0) fail(span, `division by zero in '${op}'`);
  if (op === '/') return a / b;
  if (op === '//') return Math.floor(a / b);
  return a - b * Math.floor(a / b);
}

function compare(op: BinaryOperator, left: NetValue, right: NetValue, span: SourceSpan): boolean {
  const comparable =
    (typeof left === 'number' && typeof right === 'number') ||
    (typeof left === 'string' && typeof right === 'string');
  if (!comparable) {
    fail(
      span,
      `'${op}' compares two numbers or two strings, not ${typeName(left)} and ${typeName(right)}`,
    );
  }
  const a = left as number | string;
  const b = right as number | string;
  if (op === '<') return a < b;
  if (op === '<=') return a <= b;
  if (op === '>') return a > b;
  return a >= b;
}
