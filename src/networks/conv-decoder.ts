// ConvDecoder: ClinicaDL's transposed-convolution decoder. Modules: init_unpool, layer<i>
// (conv as a transposed convolution, adn; the last layer is conv only), unpool<i>, output_act.

import { z } from 'zod';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { applyActivation, applyConvolution, applyUnpooling } from './blocks.js';
import {
  checkPoolIndices,
  convParameterSchema,
  layersPerIndex,
  NetworkConfig,
  parseConfig,
  perLayerPerAxis,
  positiveInt,
  unpoolingLayerSchema,
  withoutName,
} from './config.js';
import {
  checkInput,
  convCommonShape,
  convLayerArgs,
  convSettings,
  layerAdn,
  rejectLayerNorm,
} from './conv-encoder.js';

/** The ConvDecoder fields that Generator takes as `convArgs`. */
export const convDecoderArgsShape = {
  ...convCommonShape,
  /** Output padding of the transposed convolutions (default 0). */
  outputPadding: convParameterSchema.default(0),
  /**
   * Unpooling layer(s): one `[mode, args]` used at every index, or a list with one per index
   * (default `['upsample', { scale: 2 }]`); null for none.
   */
  unpooling: z
    .union([unpoolingLayerSchema, z.array(unpoolingLayerSchema)])
    .nullable()
    .default(['upsample', { scale: 2 }]),
  /** Layers after which to unpool; -1 unpools before the first layer (default none). */
  unpoolingIndices: z.array(z.number().int()).nullable().default(null),
};

export const convDecoderArgsSchema = z.strictObject(convDecoderArgsShape);
export type ConvDecoderArgs = z.output<typeof convDecoderArgsSchema>;

export const convDecoderSchema = z.strictObject({
  /** Number of spatial axes of the input: 1, 2 or 3. */
  spatialDims: z.number().int().min(1).max(3),
  /** Channels of the input. */
  inChannels: positiveInt,
  ...convDecoderArgsShape,
});
export type ConvDecoderFields = z.output<typeof convDecoderSchema>;

/** Adds the ConvDecoder modules in the current scope and returns the output. */
export function buildConvDecoder(builder: GraphBuilder, x: Value, fields: ConvDecoderArgs): Value {
  rejectLayerNorm('ConvDecoder', fields.norm);
  const spatialDims = x.shape.length - 2;
  const layers = fields.channels.length;
  const settings = convSettings(fields, spatialDims);
  const outputPadding = perLayerPerAxis(fields.outputPadding, spatialDims, layers, 'outputPadding');
  const checkedIndices = checkPoolIndices(fields.unpoolingIndices, layers, 'unpoolingIndices');
  // As in ClinicaDL, unpooling null turns unpooling off even when unpoolingIndices is set.
  const indices = fields.unpooling === null ? [] : checkedIndices;
  const unpooling = layersPerIndex(fields.unpooling, indices, 'unpooling');

  let y = x;
  let unpoolCount = 0;
  const unpool = (name: string) => {
    y = applyUnpooling(builder, y, unpooling[unpoolCount++], name);
  };
  if (indices.includes(-1)) unpool('init_unpool');
  fields.channels.forEach((outChannels, index) => {
    const args = {
      ...convLayerArgs(settings, index, outChannels, fields.bias),
      outputPadding: outputPadding[index],
    };
    y = applyConvolution(
      builder,
      y,
      'convTranspose',
      args,
      layerAdn(fields, index),
      `layer${index}`,
    );
    if (indices.includes(index)) unpool(`unpool${index}`);
  });

  if (fields.outputAct === null) return y;
  return applyActivation(builder, y, fields.outputAct, 'output_act');
}

/** Config of ClinicaDL's ConvDecoder; toGraph needs inputShape [inChannels, ...spatial]. */
export class ConvDecoderConfig extends NetworkConfig<ConvDecoderFields> {
  readonly name = 'ConvDecoder';

  constructor(input: z.input<typeof convDecoderSchema>) {
    super(parseConfig('ConvDecoder', convDecoderSchema, input));
  }

  static fromJSON(json: unknown): ConvDecoderConfig {
    return new ConvDecoderConfig(
      withoutName('ConvDecoder', json) as z.input<typeof convDecoderSchema>,
    );
  }

  inputShape(): undefined {
    return undefined;
  }

  build(builder: GraphBuilder, input: Value): Value {
    checkInput('ConvDecoder', input, this.fields.spatialDims, this.fields.inChannels);
    return buildConvDecoder(builder, input, this.fields);
  }
}
