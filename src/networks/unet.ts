// UNet (Ronneberger et al., "U-Net", MICCAI 2015) as ClinicaDL defines it: convolutions padded
// to keep the size, batch norm, and "up-conv" made of an upsampling then a 3x3 convolution.
// Module names follow ClinicaDL's module tree: doubleconv, down<i>.{pool, doubleconv},
// up<i>.{upsample.1, doubleconv}, reduce_channels, output_act. Each convolution is MONAI's
// Convolution: "conv", then "adn" with modules N (batch norm), D (dropout) and A (activation).

import { z } from 'zod';
import { UserError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { getLayer, layer } from '../graph/layers.js';
import { applyAdn } from './blocks.js';
import {
  activationSchema,
  dropoutSchema,
  NetworkConfig,
  parseConfig,
  positiveInt,
  withoutName,
  type Activation,
} from './config.js';
import { checkInput } from './conv-encoder.js';
import { maybeActivation, spatialDimsSchema } from './resnet.js';

export interface UNetSettings {
  outChannels: number;
  channels: readonly number[];
  act: Activation | null;
  outputAct: Activation | null;
  dropout: number | null;
}

/**
 * Joins the upsampled decoder features with the skip connection: returns the tensor that the
 * up block's double convolution reads.
 */
export type SkipMerge = (builder: GraphBuilder, up: Value, skip: Value) => Value;

/** MONAI's Convolution module `name`: a biased convolution with 'same' padding, then ADN. */
export function convolutionUnit(
  builder: GraphBuilder,
  x: Value,
  name: string,
  outChannels: number,
  settings: Pick<UNetSettings, 'act' | 'dropout'>,
): Value {
  return builder.scope(name, () => {
    const y = layer(builder, 'conv', x, { outChannels, kernelSize: 3, padding: 1 }, 'conv');
    return builder.scope('adn', () =>
      applyAdn(builder, y, {
        ordering: 'NDA',
        norm: 'batch',
        act: settings.act,
        dropout: settings.dropout,
      }),
    );
  });
}

/** MONAI's Convolution with conv_only: a biased convolution of kernel size `kernelSize`. */
export function convolutionOnly(
  builder: GraphBuilder,
  x: Value,
  name: string,
  outChannels: number,
  kernelSize: number,
): Value {
  return builder.scope(name, () => layer(builder, 'conv', x, { outChannels, kernelSize }, 'conv'));
}

function doubleConv(builder: GraphBuilder, x: Value, outChannels: number, settings: UNetSettings) {
  return builder.scope('doubleconv', () => {
    const first = convolutionUnit(builder, x, '0', outChannels, settings);
    return convolutionUnit(builder, first, '1', outChannels, settings);
  });
}

/** ClinicaDL's UNet skip merge: concatenation of the skip and the upsampled features. */
export const concatSkip: SkipMerge = (builder, up, skip) =>
  getLayer('concat').build(builder, [skip, up], { axis: 1 }, '') as Value;

/** Checks that `spatial` survives `poolings` halvings; the error names both fields. */
export function checkDepth(
  network: string,
  spatial: readonly number[],
  channels: readonly number[],
) {
  const poolings = channels.length - 1;
  const minimum = 2 ** poolings;
  if (spatial.some((size) => size < minimum)) {
    throw new UserError(
      `${network}: input spatial size [${spatial.join(', ')}] is too small for channels ` +
        `[${channels.join(', ')}], whose ${poolings} max poolings need at least ${minimum} ` +
        `voxels per axis; use a larger inputShape or fewer channels`,
    );
  }
}

/**
 * Adds a UNet in the current scope and returns its output. The decoder upsamples to the exact
 * size of each skip connection, so any size of at least 2^(channels.length - 1) per axis works.
 * For sizes divisible by that power this equals ClinicaDL's scale-factor-2 upsampling, which
 * fails on other sizes.
 */
export function buildUNet(
  builder: GraphBuilder,
  x: Value,
  settings: UNetSettings,
  mergeSkip: SkipMerge,
): Value {
  const { channels } = settings;
  const history = [doubleConv(builder, x, channels[0], settings)];
  for (let index = 1; index < channels.length; index++) {
    const previous = history[history.length - 1];
    history.push(
      builder.scope(`down${index}`, () => {
        const pooled = layer(builder, 'maxPool', previous, { kernelSize: 2 }, 'pool');
        return doubleConv(builder, pooled, channels[index], settings);
      }),
    );
  }

  let y = history.pop() as Value;
  for (let index = channels.length - 1; index >= 1; index--) {
    const skip = history.pop() as Value;
    const current = y;
    y = builder.scope(`up${index}`, () => {
      const up = builder.scope('upsample', () => {
        const size = skip.shape.slice(2);
        const upsampled = layer(builder, 'upsample', current, { size }, '0');
        return convolutionUnit(builder, upsampled, '1', channels[index - 1], settings);
      });
      return doubleConv(builder, mergeSkip(builder, up, skip), channels[index - 1], settings);
    });
  }

  const out = convolutionOnly(builder, y, 'reduce_channels', settings.outChannels, 1);
  return maybeActivation(builder, out, settings.outputAct, 'output_act');
}

export const uNetSchema = z.strictObject({
  /** Number of spatial axes of the input: 1, 2 or 3. */
  spatialDims: spatialDimsSchema,
  /** Channels of the input. */
  inChannels: positiveInt,
  /** Channels of the output. */
  outChannels: positiveInt,
  /**
   * Channels of each level; its length (at least 2) sets the depth, with one max pooling
   * between levels (default [64, 128, 256, 512, 1024]).
   */
  channels: z.array(positiveInt).min(2).default([64, 128, 256, 512, 1024]),
  /** Activation after each convolution (default 'relu'); null for none. */
  act: activationSchema.nullable().default('relu'),
  /** Activation applied to the output (default none). */
  outputAct: activationSchema.nullable().default(null),
  /** Dropout probability after each normalisation (default none). */
  dropout: dropoutSchema,
});
export type UNetFields = z.output<typeof uNetSchema>;

/** Checks the input of a UNet-like network: rank, channels and size against the depth. */
export function checkUNetInput(network: string, input: Value, fields: UNetFields): void {
  checkInput(network, input, fields.spatialDims, fields.inChannels);
  checkDepth(network, input.shape.slice(2), fields.channels);
}

/** Config of ClinicaDL's UNet; toGraph needs inputShape [inChannels, ...spatial]. */
export class UNetConfig extends NetworkConfig<UNetFields> {
  readonly name = 'UNet';

  constructor(input: z.input<typeof uNetSchema>) {
    super(parseConfig('UNet', uNetSchema, input));
  }

  static fromJSON(json: unknown): UNetConfig {
    return new UNetConfig(withoutName('UNet', json) as z.input<typeof uNetSchema>);
  }

  inputShape(): undefined {
    return undefined;
  }

  build(builder: GraphBuilder, input: Value): Value {
    checkUNetInput(this.name, input, this.fields);
    return buildUNet(builder, input, this.fields, concatSkip);
  }
}
