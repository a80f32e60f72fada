// The layer registry shared by the `.net` language and the TypeScript networks, so both build
// identical IR for the same layer and arguments.

import type { GraphBuilder } from '../builder.js';
import { ArgumentError } from '../errors.js';
import type { Value } from '../ir.js';
import { didYouMean } from '../suggest.js';
import { ACTIVATION_LAYERS } from './activation.js';
import type { LayerArgs } from './args.js';
import { ATTENTION_LAYERS } from './attention.js';
import { CONV_LAYERS } from './conv.js';
import type { LayerDef } from './define.js';
import { NORM_LAYERS } from './norm.js';
import { TENSOR_LAYERS } from './tensor.js';

export const LAYERS: Readonly<Record<string, LayerDef>> = Object.freeze(
  Object.fromEntries(
    [
      ...CONV_LAYERS,
      ...NORM_LAYERS,
      ...ACTIVATION_LAYERS,
      ...TENSOR_LAYERS,
      ...ATTENTION_LAYERS,
    ].map((layer) => [layer.name, layer]),
  ),
);

/** Looks up a layer by name; unknown names get "did you mean". */
export function getLayer(type: string): LayerDef {
  if (!Object.hasOwn(LAYERS, type)) {
    throw new ArgumentError(`Unknown layer '${type}'.${didYouMean(type, Object.keys(LAYERS))}`);
  }
  return LAYERS[type];
}

/** Builds layer `type` on one input in module `name` and returns its single output. */
export function layer(
  builder: GraphBuilder,
  type: string,
  x: Value,
  args: LayerArgs = {},
  name = '',
): Value {
  const result = getLayer(type).build(builder, [x], args, name);
  if (Array.isArray(result)) {
    throw new ArgumentError(
      `layer '${type}' returns ${result.length} outputs; use getLayer().build`,
    );
  }
  return result;
}

export { bindArguments, checkArgument, Args } from './args.js';
export type { ArgValue, LayerArgs, ParamSpec, ParamType } from './args.js';
export { defineLayer, normaliseAxis, spatialDimsOf } from './define.js';
export type { LayerDef } from './define.js';
