// The shape of a layer-registry entry and the helper that builds one: argument binding, input
// count check and module scope are handled here so each layer's build is only its ops.

import type { GraphBuilder } from '../builder.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape, type Value } from '../ir.js';
import { Args, bindArguments, type LayerArgs, type ParamSpec } from './args.js';

export interface LayerDef {
  readonly name: string;
  /** One line: what the layer computes and its PyTorch equivalent. */
  readonly doc: string;
  readonly params: readonly ParamSpec[];
  /** Number of input tensors, or 'variadic' for one or more. */
  readonly inputs: number | 'variadic';
  /**
   * Adds the layer's params and nodes inside the child scope `name` (its module name in the
   * PyTorch tree, '' for none) and returns its output(s). `args` are named arguments;
   * missing ones take their defaults.
   */
  build(
    builder: GraphBuilder,
    inputs: readonly Value[],
    args: LayerArgs,
    name: string,
  ): Value | Value[];
}

type BuildBody = (builder: GraphBuilder, inputs: readonly Value[], args: Args) => Value | Value[];

export function defineLayer(fields: Omit<LayerDef, 'build'> & { build: BuildBody }): LayerDef {
  const { build, ...rest } = fields;
  return {
    ...rest,
    build(builder, inputs, args, name) {
      checkInputCount(fields.name, fields.inputs, inputs.length);
      const bound = bindArguments(fields.name, fields.params, [], args);
      return builder.scope(name, () => build(builder, inputs, new Args(fields.name, bound)));
    },
  };
}

function checkInputCount(layer: string, expected: number | 'variadic', actual: number): void {
  if (expected === 'variadic' ? actual < 1 : actual !== expected) {
    const count = expected === 'variadic' ? 'at least 1' : `${expected}`;
    throw new ArgumentError(`${layer} takes ${count} input tensor(s) but got ${actual}`);
  }
}

/** Number of spatial axes of an [N, C, ...spatial] input (1 to 3), checked. */
export function spatialDimsOf(layer: string, x: Value): number {
  if (x.shape.length < 3 || x.shape.length > 5) {
    throw new ShapeError(
      `${layer} needs an input [N, C, ...spatial] with 1 to 3 spatial axes, got ` +
        `${formatShape(x.shape)}`,
      { shapes: [x.shape] },
    );
  }
  return x.shape.length - 2;
}

/** Converts a possibly negative axis to its index in a tensor of rank `rank`, checked. */
export function normaliseAxis(layer: string, argument: string, axis: number, rank: number) {
  const index = axis < 0 ? axis + rank : axis;
  if (index < 0 || index >= rank) {
    throw new ArgumentError(
      `${layer}: argument '${argument}' is ${axis} but the input has rank ${rank}; use ` +
        `${-rank} to ${rank - 1}`,
      argument,
    );
  }
  return index;
}

/** Symmetric padding for each axis as [before, after] pairs. */
export function symmetricPadding(padding: readonly number[]): [number, number][] {
  return padding.map((size) => [size, size]);
}
