// SE-ResNet (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018): a ResNet whose residual
// branch is rescaled by a squeeze-and-excitation module ("se_layer": global average pooling,
// linear C -> C / seReduction, ReLU, linear back to C, sigmoid) before the identity is added.

import { z } from 'zod';
import { UserError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { NetworkConfig, parseConfig, positiveInt, withoutName } from './config.js';
import { checkInput } from './conv-encoder.js';
import { buildResNet, resNetSettings, resNetShape, type ResNetSettings } from './resnet.js';

export const seResNetSchema = z.strictObject({
  ...resNetShape,
  /** Channel reduction in the squeeze-and-excitation bottleneck (default 16, as in the paper). */
  seReduction: positiveInt.default(16),
});
export type SEResNetFields = z.output<typeof seResNetSchema>;

/** Checks the SE-ResNet rules (the ResNet ones, and nFeatures >= seReduction). */
export function seResNetSettings(network: string, fields: SEResNetFields): ResNetSettings {
  const { seReduction, ...resNetFields } = fields;
  const settings = resNetSettings(network, resNetFields, seReduction);
  const small = fields.nFeatures.find((features) => features < seReduction);
  if (small !== undefined) {
    throw new UserError(
      `${network} config field 'nFeatures': ${small} is below seReduction (${seReduction}); ` +
        `every entry must be at least seReduction`,
    );
  }
  return settings;
}

/** Config of ClinicaDL's SEResNet; toGraph needs inputShape [inChannels, ...spatial]. */
export class SEResNetConfig extends NetworkConfig<SEResNetFields> {
  readonly name = 'SEResNet';

  constructor(input: z.input<typeof seResNetSchema>) {
    super(parseConfig('SEResNet', seResNetSchema, input));
    seResNetSettings(this.name, this.fields);
  }

  static fromJSON(json: unknown): SEResNetConfig {
    return new SEResNetConfig(withoutName('SEResNet', json) as z.input<typeof seResNetSchema>);
  }

  inputShape(): undefined {
    return undefined;
  }

  build(builder: GraphBuilder, input: Value): Value {
    checkInput(this.name, input, this.fields.spatialDims, this.fields.inChannels);
    return buildResNet(builder, input, seResNetSettings(this.name, this.fields));
  }
}
