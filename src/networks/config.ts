// Shared pieces of the network configs: zod schemas for ClinicaDL's activation, normalisation,
// (un)pooling and per-layer convolution arguments, the error conversion that names the field,
// and the NetworkConfig base class (JSON round trip, graph building).

import { z } from 'zod';
import { UserError } from '../errors.js';
import { GraphBuilder } from '../graph/builder.js';
import type { Graph, Value } from '../graph/ir.js';
import { didYouMean } from '../graph/suggest.js';

// ---- schemas ----

/** Activation names accepted by ClinicaDL (MONAI's factory names). */
export const ACTIVATION_NAMES = [
  'celu',
  'elu',
  'gelu',
  'leakyrelu',
  'logsoftmax',
  'mish',
  'prelu',
  'relu',
  'relu6',
  'selu',
  'sigmoid',
  'softmax',
  'tanh',
] as const;

/** Normalisation names accepted by ClinicaDL; 'syncbatch' is batch norm on one device. */
export const NORM_NAMES = ['batch', 'group', 'instance', 'layer', 'syncbatch'] as const;
export const POOLING_NAMES = ['max', 'avg', 'adaptivemax', 'adaptiveavg'] as const;
export const UNPOOLING_NAMES = ['upsample', 'convtranspose'] as const;

/** Layer arguments in TypeScript style (negativeSlope, numGroups, kernelSize, ...). */
const argsSchema = z.record(
  z.string(),
  z.union([z.number(), z.boolean(), z.string(), z.array(z.number()), z.null()]),
);

function named<T extends readonly [string, ...string[]]>(names: T) {
  const choices = names.map((name) => `'${name}'`).join(', ');
  return z.union([z.enum(names), z.tuple([z.enum(names), argsSchema])], {
    error: (issue) => {
      const given = Array.isArray(issue.input) ? issue.input[0] : issue.input;
      const hint = typeof given === 'string' ? didYouMean(given, names) : '';
      return `must be one of ${choices}, or [name, { arguments }]; got ${JSON.stringify(issue.input)}.${hint}`;
    },
  });
}

/** `'prelu'` or `['elu', { alpha: 0.5 }]`; arguments use the layer registry's names. */
export const activationSchema = named(ACTIVATION_NAMES);
/** `'batch'` or `['group', { numGroups: 2 }]`. */
export const normSchema = named(NORM_NAMES);
/** `['max', { kernelSize: 2 }]`: a pooling layer and its arguments. */
export const poolingLayerSchema = z.tuple([z.enum(POOLING_NAMES), argsSchema]);
/** `['upsample', { scale: 2 }]` or `['convtranspose', { kernelSize: 2, stride: 2 }]`. */
export const unpoolingLayerSchema = z.tuple([z.enum(UNPOOLING_NAMES), argsSchema]);

export type Activation = z.infer<typeof activationSchema>;
export type Norm = z.infer<typeof normSchema>;
export type PoolingLayer = z.infer<typeof poolingLayerSchema>;
export type UnpoolingLayer = z.infer<typeof unpoolingLayerSchema>;

/**
 * A convolution argument: one integer for every layer and axis, a list of integers for the
 * axes (used by every layer), or a list per layer whose items are integers or per-axis lists.
 * A list with at least one nested list is per layer; a flat list is per axis.
 */
export const convParameterSchema = z.union([
  z.number().int(),
  z.array(z.number().int()).min(1),
  z.array(z.union([z.number().int(), z.array(z.number().int()).min(1)])).min(1),
]);
export type ConvParameter = z.infer<typeof convParameterSchema>;

/** Order of Activation, Dropout and Normalisation after each hidden layer, letters unique. */
export const adnOrderingSchema = z
  .string()
  .regex(/^[ADN]*$/, "must contain only the letters 'A', 'D' and 'N'")
  .refine((value) => new Set(value).size === value.length, 'must not repeat a letter');

export const positiveInt = z.number().int().min(1);
export const dropoutSchema = z.number().min(0).max(1).nullable().default(null);

// ---- normalisation of arguments ----

/** Expands a ConvParameter to one per-axis list per layer, checking lengths. */
export function perLayerPerAxis(
  value: ConvParameter,
  spatialDims: number,
  layers: number,
  name: string,
): number[][] {
  const perAxis = (item: number | readonly number[]): number[] => {
    if (typeof item === 'number') return new Array<number>(spatialDims).fill(item);
    if (item.length !== spatialDims) {
      throw new UserError(
        `${name}: a per-axis list needs ${spatialDims} entries (one per spatial axis), got ` +
          `[${item.join(', ')}]`,
      );
    }
    return [...item];
  };
  if (layers === 0) return [];
  if (typeof value === 'number') return new Array(layers).fill(0).map(() => perAxis(value));
  const nested = value.some((item) => Array.isArray(item));
  if (!nested) return new Array(layers).fill(0).map(() => perAxis(value as number[]));
  if (value.length !== layers) {
    throw new UserError(
      `${name}: a per-layer list needs one entry per layer (${layers}), got ${value.length}: ` +
        `${JSON.stringify(value)}`,
    );
  }
  return value.map(perAxis);
}

/** Splits `'name'` or `['name', args]` into the name and its arguments. */
export function splitNamed<N extends string>(
  value: N | readonly [N, Record<string, unknown>],
): [N, Record<string, unknown>] {
  return typeof value === 'string' ? [value, {}] : [value[0], { ...value[1] }];
}

/** Checks (un)pooling indices: distinct, in [-1, layers - 1]; returns them sorted. */
export function checkPoolIndices(indices: readonly number[] | null, layers: number, name: string) {
  if (indices === null) return [];
  if (new Set(indices).size !== indices.length) {
    throw new UserError(`${name} [${indices.join(', ')}] repeats an index`);
  }
  for (const index of indices) {
    if (index < -1 || index > layers - 1) {
      throw new UserError(
        `${name} contains ${index}; indices must be in [-1, ${layers - 1}] (-1 means before ` +
          `the first layer, ${layers - 1} after the last of the ${layers} layers)`,
      );
    }
  }
  return [...indices].sort((a, b) => a - b);
}

/** Repeats one (un)pooling layer for every index, or checks a list against the indices. */
export function layersPerIndex<T>(value: T | T[] | null, indices: number[], name: string): T[] {
  if (value === null || indices.length === 0) return [];
  const isList = Array.isArray(value) && Array.isArray(value[0]);
  if (!isList) return indices.map(() => value as T);
  const list = value as T[];
  if (list.length !== indices.length) {
    throw new UserError(
      `${name}: a list needs one layer per index (${indices.length}), got ${list.length}`,
    );
  }
  return list;
}

// ---- parsing ----

function formatIssue(network: string, issue: z.core.$ZodIssue, known: string[]): string {
  const path = issue.path.map(String).join('.');
  const where = path ? `${network} config field '${path}'` : `${network} config`;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => `${where}: unknown field '${key}'.${didYouMean(key, known)}`)
      .join('\n');
  }
  return `${where}: ${issue.message}`;
}

function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType = schema;
  for (const key of path) {
    const inner = unwrap(current);
    if (!(inner instanceof z.ZodObject)) return [];
    current = inner.shape[String(key)] as z.ZodType;
    if (current === undefined) return [];
  }
  const inner = unwrap(current);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (
    current instanceof z.ZodDefault ||
    current instanceof z.ZodNullable ||
    current instanceof z.ZodOptional
  ) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** Parses a config with its schema; errors name every invalid field, with "did you mean". */
export function parseConfig<S extends z.ZodType>(network: string, schema: S, input: unknown) {
  const result = schema.safeParse(input);
  if (result.success) return result.data as z.output<S>;
  const lines = result.error.issues.map((issue) =>
    formatIssue(network, issue, knownKeys(schema, issue.path)),
  );
  throw new UserError(lines.join('\n'));
}

/**
 * Removes the `name` key that toJSON adds, checking that it names `network`, so the rest can be
 * parsed by the network's strict schema.
 */
export function withoutName(network: string, json: unknown): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UserError(`${network} config must be a JSON object, got ${JSON.stringify(json)}`);
  }
  const { name, ...rest } = json as Record<string, unknown>;
  if (name !== undefined && name !== network) {
    throw new UserError(`${network}.fromJSON got a config for '${String(name)}'`);
  }
  return rest;
}

// ---- base class ----

/** Output(s) of a network's build: one value, or several named ones (a VAE). */
export type NetworkOutputs = Value | Readonly<Record<string, Value>>;

export interface ToGraphOptions {
  /** Batch size N of the graph input (default 1). */
  batchSize?: number;
  /** Per-sample input shape, for networks whose config does not fix it (encoders, decoders). */
  inputShape?: readonly number[];
}

export abstract class NetworkConfig<F extends object> {
  abstract readonly name: string;

  protected constructor(readonly fields: Readonly<F>) {}

  /** The per-sample input shape the config fixes, or undefined if toGraph needs one. */
  abstract inputShape(): number[] | undefined;

  /** Adds the network to `builder` on `input` ([N, ...inputShape]) and returns its output(s). */
  abstract build(builder: GraphBuilder, input: Value): NetworkOutputs;

  /** Returns the config as JSON with every default filled in, plus its network name. */
  toJSON(): { name: string } & F {
    return { name: this.name, ...structuredClone(this.fields as F) };
  }

  /** Builds a whole graph: input 'input', outputs 'output' or the network's named outputs. */
  toGraph(options: ToGraphOptions = {}): Graph {
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new UserError(`batchSize must be an integer >= 1, got ${batchSize}`);
    }
    const shape = options.inputShape ?? this.inputShape();
    if (shape === undefined) {
      throw new UserError(`${this.name}.toGraph needs inputShape, the per-sample input shape`);
    }
    const builder = new GraphBuilder();
    const outputs = this.build(builder, builder.input('input', [batchSize, ...shape]));
    if (isValue(outputs)) builder.output('output', outputs);
    else for (const [name, value] of Object.entries(outputs)) builder.output(name, value);
    return builder.graph;
  }
}

function isValue(outputs: NetworkOutputs): outputs is Value {
  return typeof (outputs as Value).id === 'number' && 'shape' in outputs;
}
