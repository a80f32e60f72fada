// Runtime values of elaboration: numbers, strings, booleans, none, lists, and tensors (graph
// values together with the source position of the call that produced them), plus the checks
// of declared parameter types.

import type { Value as GraphValue } from '../graph/ir.js';
import { TYPE_NAMES, type TypeRef } from './ast.js';
import type { SourceSpan } from './diagnostics.js';

export interface TensorRef {
  kind: 'tensor';
  value: GraphValue;
  /** The call or input declaration that produced the tensor. */
  span: SourceSpan;
  /** Description of the producer for shape errors: "conv 'features.0'" or "input 'x'". */
  origin: string;
}

/** Named values, such as the arguments of an activation: `{alpha: 0.5}`. */
export interface RecordValue {
  kind: 'record';
  fields: Map<string, NetValue>;
}

export type NetValue = number | string | boolean | null | NetValue[] | TensorRef | RecordValue;

export function isTensor(value: NetValue): value is TensorRef {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'tensor'
  );
}

export function isRecord(value: NetValue): value is RecordValue {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'record'
  );
}

/** Names the kind of a value in messages: "int", "list", "tensor". */
export function typeName(value: NetValue): string {
  if (value === null) return 'none';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'list';
  return value.kind;
}

/** Shows a value as the user would write it; tensors show their shape. */
export function showValue(value: NetValue): string {
  if (value === null) return 'none';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(showValue).join(', ')}]`;
  if (isTensor(value)) return `tensor [${value.value.shape.join(', ')}]`;
  if (isRecord(value)) {
    const fields = [...value.fields].map(([name, field]) => `${name}: ${showValue(field)}`);
    return `{${fields.join(', ')}}`;
  }
  return String(value);
}

const SCALAR_CHECKS: Record<string, (value: NetValue) => boolean> = {
  int: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number',
  bool: (v) => typeof v === 'boolean',
  str: (v) => typeof v === 'string',
};

function matches(type: string, value: NetValue): boolean {
  if (type === 'any') return true;
  if (type === 'tensor') return isTensor(value);
  if (type === 'list') return Array.isArray(value);
  if (type === 'record') return isRecord(value);
  const scalar = SCALAR_CHECKS[type];
  if (scalar) return scalar(value);
  const element = SCALAR_CHECKS[type.slice(0, -1)];
  return element !== undefined && Array.isArray(value) && value.every(element);
}

export function isKnownType(name: string): boolean {
  return (TYPE_NAMES as readonly string[]).includes(name);
}

/** Checks a value against a declared type; returns a reason when it does not match. */
export function checkType(type: TypeRef, value: NetValue): string | undefined {
  if (value === null && type.optional) return undefined;
  if (matches(type.name, value)) return undefined;
  const expected = type.optional ? `${type.name} or none` : type.name;
  return `expected ${expected} but got ${typeName(value)} ${showValue(value)}`;
}

/** Truthiness as in Python: 0, "", [], {} and none are false. */
export function truthy(value: NetValue): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isRecord(value)) return value.fields.size > 0;
  if (isTensor(value)) return true;
  return Boolean(value);
}

export function valuesEqual(a: NetValue, b: NetValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => valuesEqual(item, b[i]!));
  }
  if (isRecord(a) && isRecord(b)) {
    if (a.fields.size !== b.fields.size) return false;
    return [...a.fields].every(
      ([name, field]) => b.fields.has(name) && valuesEqual(field, b.fields.get(name)!),
    );
  }
  return a === b;
}
