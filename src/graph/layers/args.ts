// Layer arguments: their declared specs, binding of positional and named values, defaults and
// type checks. The `.net` language and the TypeScript builders both go through bindArguments,
// so a bad argument gets the same message from either.

import { ArgumentError } from '../errors.js';
import { didYouMean } from '../suggest.js';

export type ArgValue = number | boolean | string | readonly number[] | null;
export type LayerArgs = Readonly<Record<string, ArgValue>>;

/**
 * 'ints' and 'floats' accept one number (repeated per axis by the layer) or a list. A spec with
 * `values` on a non-enum type also accepts those strings, as padding accepts 'same'.
 */
export type ParamType = 'int' | 'float' | 'bool' | 'string' | 'ints' | 'floats' | 'enum';

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** Allowed strings: the choices of an enum, or keywords accepted besides numbers. */
  readonly values?: readonly string[];
  /** Default value; undefined means the argument is required, null means "not given". */
  readonly default?: ArgValue;
  /** Smallest allowed number (each element of a list). */
  readonly min?: number;
  /** One line: what the argument sets, with its unit. */
  readonly doc: string;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function isNumberList(value: unknown): value is readonly number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}

function checkNumbers(layer: string, spec: ParamSpec, numbers: readonly number[], value: ArgValue) {
  const integral = spec.type === 'int' || spec.type === 'ints';
  for (const item of numbers) {
    if (!Number.isFinite(item) || (integral && !Number.isInteger(item))) {
      throw new ArgumentError(
        `${layer}: argument '${spec.name}' must be ${expectedText(spec)}, ` +
          `got ${describe(value)}`,
        spec.name,
      );
    }
    if (spec.min !== undefined && item < spec.min) {
      throw new ArgumentError(
        `${layer}: argument '${spec.name}' must be >= ${spec.min}, got ${describe(value)}`,
        spec.name,
      );
    }
  }
}

/** Checks one value against its spec; returns it unchanged. */
export function checkArgument(layer: string, spec: ParamSpec, value: ArgValue): ArgValue {
  if (value === null) {
    if (spec.default === null) return value;
    throw new ArgumentError(`${layer}: argument '${spec.name}' cannot be null`, spec.name);
  }
  if (typeof value === 'string' && spec.values?.includes(value)) return value;
  const expected = expectedText(spec);
  const fail = () =>
    new ArgumentError(
      `${layer}: argument '${spec.name}' must be ${expected}, got ${describe(value)}.` +
        (typeof value === 'string' && spec.values ? didYouMean(value, spec.values) : ''),
      spec.name,
    );
  switch (spec.type) {
    case 'int':
    case 'float':
      if (typeof value !== 'number') throw fail();
      checkNumbers(layer, spec, [value], value);
      return value;
    case 'ints':
    case 'floats':
      if (typeof value === 'number') checkNumbers(layer, spec, [value], value);
      else if (isNumberList(value) && value.length > 0) checkNumbers(layer, spec, value, value);
      else throw fail();
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw fail();
      return value;
    case 'string':
      if (typeof value !== 'string') throw fail();
      return value;
    case 'enum':
      throw fail();
  }
}

function expectedText(spec: ParamSpec): string {
  const words: Record<ParamType, string> = {
    int: 'an integer',
    float: 'a number',
    bool: 'true or false',
    string: 'a string',
    ints: 'an integer or a list of integers',
    floats: 'a number or a list of numbers',
    enum: 'one of',
  };
  const choices = spec.values?.map((choice) => `'${choice}'`).join(', ');
  if (spec.type === 'enum') return `one of ${choices}`;
  return choices ? `${words[spec.type]} or one of ${choices}` : words[spec.type];
}

/**
 * Binds positional then named arguments to a layer's specs, fills defaults and checks types.
 * Errors name the layer, the argument, the rule and the value, with "did you mean" for unknown
 * names.
 */
export function bindArguments(
  layer: string,
  specs: readonly ParamSpec[],
  positional: readonly ArgValue[],
  named: LayerArgs,
): Record<string, ArgValue> {
  if (positional.length > specs.length) {
    throw new ArgumentError(
      `${layer} takes at most ${specs.length} arguments (${specs.map((s) => s.name).join(', ')})` +
        ` but got ${positional.length} positional ones`,
    );
  }
  const bound: Record<string, ArgValue> = {};
  positional.forEach((value, index) => (bound[specs[index].name] = value));
  const names = specs.map((spec) => spec.name);
  for (const [name, value] of Object.entries(named)) {
    if (!names.includes(name)) {
      throw new ArgumentError(
        `${layer} has no argument '${name}'.${didYouMean(name, names)} Its arguments are: ` +
          `${names.join(', ')}`,
        name,
      );
    }
    if (name in bound) {
      throw new ArgumentError(`${layer}: argument '${name}' is given twice`, name);
    }
    bound[name] = value;
  }
  for (const spec of specs) {
    if (!(spec.name in bound) || bound[spec.name] === undefined) {
      if (spec.default === undefined) {
        throw new ArgumentError(
          `${layer}: missing required argument '${spec.name}' (${spec.doc})`,
          spec.name,
        );
      }
      bound[spec.name] = spec.default;
    }
    bound[spec.name] = checkArgument(layer, spec, bound[spec.name]);
  }
  return bound;
}

/** Typed read access to bound arguments, for layer build functions. */
export class Args {
  constructor(
    readonly layer: string,
    readonly values: Readonly<Record<string, ArgValue>>,
  ) {}

  int(name: string): number {
    return this.values[name] as number;
  }

  float(name: string): number {
    return this.values[name] as number;
  }

  bool(name: string): boolean {
    return this.values[name] as boolean;
  }

  string(name: string): string {
    return this.values[name] as string;
  }

  isNull(name: string): boolean {
    return this.values[name] === null;
  }

  /** Expands a number or list to `count` entries (one per spatial axis). */
  perAxis(name: string, count: number): number[] {
    const value = this.values[name] as number | readonly number[];
    if (typeof value === 'number') return new Array<number>(count).fill(value);
    if (value.length !== count) {
      throw new ArgumentError(
        `${this.layer}: argument '${name}' has ${value.length} entries ${describe(value)} but ` +
          `the input has ${count} spatial axes; give one number or ${count} numbers`,
        name,
      );
    }
    return [...value];
  }

  /** Returns a list argument as given, a single number becoming a one-element list. */
  list(name: string): number[] {
    const value = this.values[name] as number | readonly number[];
    return typeof value === 'number' ? [value] : [...value];
  }
}
