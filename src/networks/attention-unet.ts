// Attention UNet (Oktay et al., "Attention U-Net", MIDL 2018) as ClinicaDL defines it: the UNet
// with an attention gate (MONAI's AttentionBlock, module "attention" in each up block) before
// each skip concatenation. The gate's modules are W_g.{0.conv, 1}, W_x.{0.conv, 1} and
// psi.{0.conv, 1}: 1x1 convolutions to half the channels (one channel for psi), each followed by
// batch norm.

import type { z } from 'zod';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { getLayer, layer } from '../graph/layers.js';
import { NetworkConfig, parseConfig, withoutName } from './config.js';
import {
  buildUNet,
  checkUNetInput,
  convolutionOnly,
  uNetSchema,
  type SkipMerge,
  type UNetFields,
} from './unet.js';

function projection(builder: GraphBuilder, x: Value, name: string, outChannels: number): Value {
  return builder.scope(name, () => {
    const y = convolutionOnly(builder, x, '0', outChannels, 1);
    return layer(builder, 'batchNorm', y, {}, '1');
  });
}

/**
 * MONAI's AttentionBlock(g, x): x * sigmoid(psi(relu(W_g(g) + W_x(x)))), one weight per voxel.
 * NOTE: this follows ClinicaDL's AttentionUpBlock, which passes the skip connection as the
 * gating signal g and gates the upsampled features x, then concatenates the gated and the
 * upsampled features. MONAI's own AttentionUnet gates the skip connection instead.
 */
export const attentionSkip: SkipMerge = (builder, up, skip) => {
  const gated = builder.scope('attention', () => {
    const half = Math.floor(up.shape[1] / 2);
    const gate = projection(builder, skip, 'W_g', half);
    const features = projection(builder, up, 'W_x', half);
    const joined = layer(builder, 'relu', builder.op('add', [gate, features], {}), {}, 'relu');
    const weights = builder.scope('psi', () => {
      const y = layer(builder, 'batchNorm', convolutionOnly(builder, joined, '0', 1, 1), {}, '1');
      return layer(builder, 'sigmoid', y, {}, '2');
    });
    return builder.op('mul', [up, weights], {});
  });
  return getLayer('concat').build(builder, [gated, up], { axis: 1 }, '') as Value;
};

/** Config of ClinicaDL's AttentionUNet; toGraph needs inputShape [inChannels, ...spatial]. */
export class AttentionUNetConfig extends NetworkConfig<UNetFields> {
  readonly name = 'AttentionUNet';

  constructor(input: z.input<typeof uNetSchema>) {
    super(parseConfig('AttentionUNet', uNetSchema, input));
  }

  static fromJSON(json: unknown): AttentionUNetConfig {
    return new AttentionUNetConfig(
      withoutName('AttentionUNet', json) as z.input<typeof uNetSchema>,
    );
  }

  inputShape(): undefined {
    return undefined;
  }

  build(builder: GraphBuilder, input: Value): Value {
    checkUNetInput(this.name, input, this.fields);
    return buildUNet(builder, input, this.fields, attentionSkip);
  }
}
