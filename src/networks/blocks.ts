// Building blocks shared by the builder networks: activation and normalisation from ClinicaDL's
// specs, MONAI's ADN block (its order of Activation, Dropout, Normalisation), and pooling and
// unpooling layers. Module names match the PyTorch modules, so state_dict names do too.

import { UserError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { layer, type LayerArgs } from '../graph/layers.js';
import {
  splitNamed,
  type Activation,
  type Norm,
  type PoolingLayer,
  type UnpoolingLayer,
} from './config.js';

const ACTIVATION_LAYERS: Record<string, string> = {
  celu: 'celu',
  elu: 'elu',
  gelu: 'gelu',
  leakyrelu: 'leakyRelu',
  logsoftmax: 'logSoftmax',
  mish: 'mish',
  prelu: 'prelu',
  relu: 'relu',
  relu6: 'relu6',
  selu: 'selu',
  sigmoid: 'sigmoid',
  softmax: 'softmax',
  tanh: 'tanh',
};

const POOLING_LAYERS: Record<string, string> = {
  max: 'maxPool',
  avg: 'avgPool',
  adaptivemax: 'adaptiveMaxPool',
  adaptiveavg: 'adaptiveAvgPool',
};

/** Adds an activation module `name` (for example 'adn.A' or 'output_act'). */
export function applyActivation(
  builder: GraphBuilder,
  x: Value,
  activation: Activation,
  name: string,
): Value {
  const [activationName, args] = splitNamed(activation);
  return layer(builder, ACTIVATION_LAYERS[activationName], x, args as LayerArgs, name);
}

/**
 * Adds a normalisation module. On [N, features] inputs (MLP layers) layer norm takes the
 * feature count, and instance norm is rejected because it needs spatial axes.
 */
export function applyNorm(builder: GraphBuilder, x: Value, norm: Norm, name: string): Value {
  const [normName, args] = splitNamed(norm);
  switch (normName) {
    case 'batch':
    case 'syncbatch':
      return layer(builder, 'batchNorm', x, args as LayerArgs, name);
    case 'group':
      if (!('numGroups' in args)) {
        throw new UserError(
          "norm 'group' needs the argument numGroups, for example ['group', { numGroups: 2 }]",
        );
      }
      return layer(builder, 'groupNorm', x, args as LayerArgs, name);
    case 'layer':
      return layer(builder, 'layerNorm', x, args as LayerArgs, name);
    case 'instance':
      if (x.shape.length < 3) {
        throw new UserError(
          "norm 'instance' needs spatial axes and cannot follow a linear layer; use 'batch', " +
            "'group' or 'layer'",
        );
      }
      return layer(builder, 'instanceNorm', x, args as LayerArgs, name);
  }
}

export interface AdnOptions {
  ordering: string;
  act: Activation | null;
  norm: Norm | null;
  dropout: number | null;
}

/** True when the ADN block would contain at least one module. */
export function hasAdn(options: AdnOptions): boolean {
  return [...options.ordering].some(
    (letter) =>
      (letter === 'A' && options.act !== null) ||
      (letter === 'N' && options.norm !== null) ||
      (letter === 'D' && options.dropout !== null),
  );
}

/** MONAI's ADN block: modules 'A', 'D' and 'N' in `ordering`, skipping those not set. */
export function applyAdn(builder: GraphBuilder, x: Value, options: AdnOptions): Value {
  let y = x;
  for (const letter of options.ordering) {
    if (letter === 'A' && options.act !== null) y = applyActivation(builder, y, options.act, 'A');
    if (letter === 'N' && options.norm !== null) y = applyNorm(builder, y, options.norm, 'N');
    if (letter === 'D' && options.dropout !== null) {
      y = layer(builder, 'dropout', y, { p: options.dropout }, 'D');
    }
  }
  return y;
}

/**
 * Adds MONAI's Convolution block `name`: module 'conv' (a convolution or transposed
 * convolution), then an 'adn' block unless `convOnly` is set or the block would be empty.
 */
export function applyConvolution(
  builder: GraphBuilder,
  x: Value,
  type: 'conv' | 'convTranspose',
  args: LayerArgs,
  adn: AdnOptions & { convOnly: boolean },
  name: string,
): Value {
  return builder.scope(name, () => {
    const conv = layer(builder, type, x, args, 'conv');
    if (adn.convOnly || !hasAdn(adn)) return conv;
    return builder.scope('adn', () => applyAdn(builder, conv, adn));
  });
}

/** Adds a pooling module `name` from `['max' | 'avg' | 'adaptivemax' | 'adaptiveavg', args]`. */
export function applyPooling(builder: GraphBuilder, x: Value, pooling: PoolingLayer, name: string) {
  const [mode, args] = pooling;
  return layer(builder, POOLING_LAYERS[mode], x, args as LayerArgs, name);
}

/**
 * Adds an unpooling module `name`: `['upsample', args]` (nn.Upsample) or
 * `['convtranspose', args]` (a transposed convolution keeping the channel count).
 */
export function applyUnpooling(
  builder: GraphBuilder,
  x: Value,
  unpooling: UnpoolingLayer,
  name: string,
): Value {
  const [mode, args] = unpooling;
  if (mode === 'upsample') return layer(builder, 'upsample', x, args as LayerArgs, name);
  const convArgs = { outChannels: x.shape[1], ...args } as LayerArgs;
  return layer(builder, 'convTranspose', x, convArgs, name);
}
