// ConvEncoder: ClinicaDL's fully convolutional encoder. Modules: init_pool (pooling before the
// first convolution), layer<i> (conv, adn; the last layer is conv only), pool<i>, output_act.

import { z } from 'zod';
import { UserError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { applyActivation, applyConvolution, applyPooling } from './blocks.js';
import {
  activationSchema,
  adnOrderingSchema,
  checkPoolIndices,
  convParameterSchema,
  dropoutSchema,
  layersPerIndex,
  NetworkConfig,
  normSchema,
  parseConfig,
  perLayerPerAxis,
  poolingLayerSchema,
  positiveInt,
  withoutName,
  type PoolingLayer,
} from './config.js';

/** Fields shared by ConvEncoder and ConvDecoder (the convolution and ADN settings). */
export const convCommonShape = {
  /** Output channels of each convolution; its length is the number of layers. */
  channels: z.array(positiveInt),
  /** Kernel size of the convolutions (default 3); see ConvParameter for the forms. */
  kernelSize: convParameterSchema.default(3),
  /** Stride of the convolutions (default 1). */
  stride: convParameterSchema.default(1),
  /** Zero padding of the convolutions in voxels (default 0). */
  padding: convParameterSchema.default(0),
  /** Dilation of the convolutions (default 1). */
  dilation: convParameterSchema.default(1),
  /** Activation after each convolution but the last (default 'prelu'); null for none. */
  act: activationSchema.nullable().default('prelu'),
  /** Activation applied to the network output (default none). */
  outputAct: activationSchema.nullable().default(null),
  /** Normalisation after each convolution but the last (default 'instance'); null for none. */
  norm: normSchema.nullable().default('instance'),
  /** Dropout probability after each convolution but the last (default none). */
  dropout: dropoutSchema,
  /** Learned bias in the convolutions (default true). */
  bias: z.boolean().default(true),
  /** Order of Activation, Dropout and Normalisation (default 'NDA'). */
  adnOrdering: adnOrderingSchema.default('NDA'),
};

/** The ConvEncoder fields that CNN and AutoEncoder take as `convArgs`. */
export const convEncoderArgsShape = {
  ...convCommonShape,
  /**
   * Pooling layer(s): one `[mode, args]` used at every index, or a list with one per index
   * (default `['max', { kernelSize: 2 }]`); null for none.
   */
  pooling: z
    .union([poolingLayerSchema, z.array(poolingLayerSchema)])
    .nullable()
    .default(['max', { kernelSize: 2 }]),
  /** Layers after which to pool; -1 pools before the first layer (default none). */
  poolingIndices: z.array(z.number().int()).nullable().default(null),
};

export const convEncoderArgsSchema = z.strictObject(convEncoderArgsShape);
export type ConvEncoderArgs = z.output<typeof convEncoderArgsSchema>;

export const convEncoderSchema = z.strictObject({
  /** Number of spatial axes of the input: 1, 2 or 3. */
  spatialDims: z.number().int().min(1).max(3),
  /** Channels of the input. */
  inChannels: positiveInt,
  ...convEncoderArgsShape,
});
export type ConvEncoderFields = z.output<typeof convEncoderSchema>;

/** Per-layer settings after normalisation, and the spatial sizes seen while building. */
export interface EncoderTrace {
  kernelSize: number[][];
  stride: number[][];
  padding: number[][];
  dilation: number[][];
  pooling: PoolingLayer[];
  poolingIndices: number[];
  /** Spatial size before each child module, in module order. */
  children: { name: string; sizeBefore: number[] }[];
  finalSize: number[];
}

export function rejectLayerNorm(network: string, norm: ConvEncoderArgs['norm']): void {
  if (norm === 'layer' || (Array.isArray(norm) && norm[0] === 'layer')) {
    throw new UserError(
      `${network}: norm 'layer' is not available; use 'batch', 'group' or 'instance'`,
    );
  }
}

export type ConvCommonArgs = z.output<z.ZodObject<typeof convCommonShape>>;
export type ConvSettings = ReturnType<typeof convSettings>;

/** Normalises the per-layer convolution arguments of an encoder or decoder. */
export function convSettings(fields: ConvEncoderArgs | ConvCommonArgs, spatialDims: number) {
  const layers = fields.channels.length;
  return {
    kernelSize: perLayerPerAxis(fields.kernelSize, spatialDims, layers, 'kernelSize'),
    stride: perLayerPerAxis(fields.stride, spatialDims, layers, 'stride'),
    padding: perLayerPerAxis(fields.padding, spatialDims, layers, 'padding'),
    dilation: perLayerPerAxis(fields.dilation, spatialDims, layers, 'dilation'),
  };
}

/** Arguments of convolution `index` of an encoder or decoder. */
export function convLayerArgs(
  settings: ConvSettings,
  index: number,
  outChannels: number,
  bias: boolean,
) {
  return {
    outChannels,
    kernelSize: settings.kernelSize[index],
    stride: settings.stride[index],
    padding: settings.padding[index],
    dilation: settings.dilation[index],
    bias,
  };
}

/** ADN settings of an encoder or decoder layer; the last layer is conv only. */
export function layerAdn(fields: ConvEncoderArgs | ConvCommonArgs, index: number) {
  return {
    ordering: fields.adnOrdering,
    act: fields.act,
    norm: fields.norm,
    dropout: fields.dropout,
    convOnly: index === fields.channels.length - 1,
  };
}

/** Adds the ConvEncoder modules in the current scope. */
export function buildConvEncoder(
  builder: GraphBuilder,
  x: Value,
  fields: ConvEncoderArgs,
): { output: Value; trace: EncoderTrace } {
  rejectLayerNorm('ConvEncoder', fields.norm);
  const settings = convSettings(fields, x.shape.length - 2);
  const checkedIndices = checkPoolIndices(
    fields.poolingIndices,
    fields.channels.length,
    'poolingIndices',
  );
  // As in ClinicaDL, pooling null turns pooling off even when poolingIndices is set.
  const poolingIndices = fields.pooling === null ? [] : checkedIndices;
  const pooling = layersPerIndex(fields.pooling, poolingIndices, 'pooling');
  const trace: EncoderTrace = { ...settings, pooling, poolingIndices, children: [], finalSize: [] };

  let y = x;
  let poolCount = 0;
  const pool = (name: string) => {
    trace.children.push({ name, sizeBefore: y.shape.slice(2) });
    y = applyShrinkingPooling(builder, y, pooling[poolCount++], name);
  };
  if (poolingIndices.includes(-1)) pool('init_pool');
  fields.channels.forEach((outChannels, index) => {
    const name = `layer${index}`;
    trace.children.push({ name, sizeBefore: y.shape.slice(2) });
    const args = convLayerArgs(settings, index, outChannels, fields.bias);
    y = applyConvolution(builder, y, 'conv', args, layerAdn(fields, index), name);
    if (poolingIndices.includes(index)) pool(`pool${index}`);
  });

  if (fields.outputAct !== null) y = applyActivation(builder, y, fields.outputAct, 'output_act');
  trace.finalSize = y.shape.slice(2);
  return { output: y, trace };
}

/** Adds a pooling module, rejecting one that would grow the image (as ClinicaDL does). */
function applyShrinkingPooling(
  builder: GraphBuilder,
  x: Value,
  pooling: PoolingLayer,
  name: string,
) {
  const before = x.shape.slice(2);
  const y = applyPooling(builder, x, pooling, name);
  const after = y.shape.slice(2);
  if (after.some((size, axis) => size > before[axis])) {
    throw new UserError(
      `ConvEncoder: pooling ${JSON.stringify(pooling)} (${name}) would grow the image from ` +
        `[${before.join(', ')}] to [${after.join(', ')}]`,
    );
  }
  return y;
}

/** Config of ClinicaDL's ConvEncoder; toGraph needs inputShape [inChannels, ...spatial]. */
export class ConvEncoderConfig extends NetworkConfig<ConvEncoderFields> {
  readonly name = 'ConvEncoder';

  constructor(input: z.input<typeof convEncoderSchema>) {
    super(parseConfig('ConvEncoder', convEncoderSchema, input));
  }

  static fromJSON(json: unknown): ConvEncoderConfig {
    return new ConvEncoderConfig(
      withoutName('ConvEncoder', json) as z.input<typeof convEncoderSchema>,
    );
  }

  inputShape(): undefined {
    return undefined;
  }

  build(builder: GraphBuilder, input: Value): Value {
    checkInput('ConvEncoder', input, this.fields.spatialDims, this.fields.inChannels);
    return buildConvEncoder(builder, input, this.fields).output;
  }
}

/** Checks that an input is [N, inChannels, ...spatialDims axes]. */
export function checkInput(network: string, input: Value, spatialDims: number, inChannels: number) {
  if (input.shape.length !== spatialDims + 2 || input.shape[1] !== inChannels) {
    throw new UserError(
      `${network} expects an input [N, ${inChannels}, ...${spatialDims} spatial axes], got ` +
        `[${input.shape.join(', ')}]`,
    );
  }
}
