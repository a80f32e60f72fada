// Built-in functions of the language. They compute on parameter values only; a user-declared
// variable or block of the same name hides them.

import type { SourceSpan } from './diagnostics.js';
import type { EvaluatedArgs } from './evaluate.js';
import { DiagnosticError } from './diagnostics.js';
import { typeName, type NetValue } from './values.js';

type Builtin = (args: EvaluatedArgs, span: SourceSpan) => NetValue;

/** Maximum length of a list built by range() or repetition, so a typo cannot exhaust memory. */
export const MAX_LIST_LENGTH = 100_000;

export function checkListLength(length: number, span: SourceSpan): void {
  if (length > MAX_LIST_LENGTH) {
    fail(span, `this list would have ${length} items; lists are limited to ${MAX_LIST_LENGTH}`);
  }
}

function fail(span: SourceSpan, message: string): never {
  throw new DiagnosticError({ span, message });
}

function positional(name: string, args: EvaluatedArgs, counts: number[], span: SourceSpan) {
  if (args.named.size > 0) {
    const [first] = args.named.keys();
    fail(args.named.get(first!)!.span, `${name}() takes no named arguments, got '${first}'`);
  }
  if (!counts.includes(args.positional.length)) {
    const expected = counts.join(' or ');
    fail(span, `${name}() takes ${expected} arguments but got ${args.positional.length}`);
  }
  return args.positional;
}

function int(name: string, arg: { value: NetValue; span: SourceSpan }): number {
  if (typeof arg.value === 'number' && Number.isInteger(arg.value)) return arg.value;
  fail(arg.span, `${name}() needs int arguments but got ${typeName(arg.value)}`);
}

/** Reads numbers given one by one or as one list; only sum and product accept none. */
function numberList(name: string, args: EvaluatedArgs, span: SourceSpan, allowEmpty = false) {
  if (args.named.size > 0) fail(span, `${name}() takes no named arguments`);
  const given = args.positional;
  const values =
    given.length === 1 && Array.isArray(given[0]!.value)
      ? given[0]!.value
      : given.map((a) => a.value);
  if (values.length === 0 && !allowEmpty) fail(span, `${name}() needs at least one number`);
  for (const value of values) {
    if (typeof value !== 'number') fail(span, `${name}() needs numbers but got ${typeName(value)}`);
  }
  return values as number[];
}

function range(args: EvaluatedArgs, span: SourceSpan): number[] {
  const given = positional('range', args, [1, 2, 3], span).map((arg) => int('range', arg));
  const [start, stop, step] =
    given.length === 1 ? [0, given[0]!, 1] : [given[0]!, given[1]!, given[2] ?? 1];
  if (step === 0) fail(span, 'range() step must not be zero');
  checkListLength(Math.ceil((stop - start) / step), span);
  const result: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) result.push(i);
  return result;
}

function len(args: EvaluatedArgs, span: SourceSpan): number {
  const [arg] = positional('len', args, [1], span);
  if (Array.isArray(arg!.value) || typeof arg!.value === 'string') return arg!.value.length;
  fail(arg!.span, `len() needs a list or a string but got ${typeName(arg!.value)}`);
}

function toInt(args: EvaluatedArgs, span: SourceSpan): number {
  const [arg] = positional('int', args, [1], span);
  if (typeof arg!.value === 'number') return Math.trunc(arg!.value);
  if (typeof arg!.value === 'boolean') return arg!.value ? 1 : 0;
  fail(arg!.span, `int() needs a number but got ${typeName(arg!.value)}`);
}

function toFloat(args: EvaluatedArgs, span: SourceSpan): number {
  const [arg] = positional('float', args, [1], span);
  if (typeof arg!.value === 'number') return arg!.value;
  fail(arg!.span, `float() needs a number but got ${typeName(arg!.value)}`);
}

function abs(args: EvaluatedArgs, span: SourceSpan): number {
  const [arg] = positional('abs', args, [1], span);
  if (typeof arg!.value === 'number') return Math.abs(arg!.value);
  fail(arg!.span, `abs() needs a number but got ${typeName(arg!.value)}`);
}

/** Stops elaboration with the given message, for checks written in .net files. */
function error(args: EvaluatedArgs, span: SourceSpan): never {
  const [message] = positional('error', args, [1], span);
  if (typeof message!.value !== 'string') fail(message!.span, 'error() needs a string message');
  fail(span, message!.value);
}

/** Returns the kind of a value: "int", "float", "str", "bool", "none", "list", "record", "tensor". */
function typeOf(args: EvaluatedArgs, span: SourceSpan): string {
  const [arg] = positional('typeOf', args, [1], span);
  return typeName(arg!.value);
}

/** Returns a list of numbers or strings in ascending order. */
function sorted(args: EvaluatedArgs, span: SourceSpan): NetValue[] {
  const [arg] = positional('sorted', args, [1], span);
  const list = arg!.value;
  const numbers = Array.isArray(list) && list.every((item) => typeof item === 'number');
  const strings = Array.isArray(list) && list.every((item) => typeof item === 'string');
  if (!numbers && !strings) fail(arg!.span, 'sorted() needs a list of numbers or of strings');
  const copy = [...(list as (number | string)[])];
  return numbers ? copy.sort((a, b) => (a as number) - (b as number)) : copy.sort();
}

export const BUILTINS: Record<string, Builtin> = {
  error,
  sorted,
  typeOf,
  range,
  len,
  int: toInt,
  float: toFloat,
  abs,
  min: (args, span) => Math.min(...numberList('min', args, span)),
  max: (args, span) => Math.max(...numberList('max', args, span)),
  sum: (args, span) => numberList('sum', args, span, true).reduce((total, v) => total + v, 0),
  product: (args, span) =>
    numberList('product', args, span, true).reduce((total, v) => total * v, 1),
};
