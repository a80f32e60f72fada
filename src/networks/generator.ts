// Generator: ClinicaDL's mirror of CNN, an MLP ('mlp') from the latent vector to startShape,
// a reshape ('reshape') and a ConvDecoder ('convolutions').

import { z } from 'zod';
import type { GraphBuilder } from '../graph/builder.js';
import { numElements, type Value } from '../graph/ir.js';
import { layer } from '../graph/layers.js';
import { inShapeSchema, mlpArgsOrDefault } from './cnn.js';
import { NetworkConfig, parseConfig, positiveInt, withoutName } from './config.js';
import { buildConvDecoder, convDecoderArgsSchema } from './conv-decoder.js';
import { buildMlp, mlpArgsSchema } from './mlp.js';

export const generatorSchema = z.strictObject({
  /** Size of the latent vector (the input). */
  latentSize: positiveInt,
  /** Shape [C, ...spatial] that the MLP output is reshaped to before the decoder. */
  startShape: inShapeSchema,
  /** ConvDecoder arguments; `channels` is required. */
  convArgs: convDecoderArgsSchema,
  /** MLP arguments; `hiddenDims` is required. Null (default) means one linear layer. */
  mlpArgs: mlpArgsSchema.nullable().default(null),
});
export type GeneratorFields = z.output<typeof generatorSchema>;

/** Adds 'mlp', 'reshape' and 'convolutions' in the current scope. */
export function buildGenerator(builder: GraphBuilder, x: Value, fields: GeneratorFields): Value {
  const numOutputs = numElements(fields.startShape);
  const mlpArgs = { ...mlpArgsOrDefault(fields.mlpArgs), numOutputs };
  const features = builder.scope('mlp', () => buildMlp(builder, x, mlpArgs));
  const image = layer(builder, 'reshape', features, { shape: fields.startShape }, 'reshape');
  return builder.scope('convolutions', () => buildConvDecoder(builder, image, fields.convArgs));
}

/** Config of ClinicaDL's Generator. */
export class GeneratorConfig extends NetworkConfig<GeneratorFields> {
  readonly name = 'Generator';

  constructor(input: z.input<typeof generatorSchema>) {
    super(parseConfig('Generator', generatorSchema, input));
  }

  static fromJSON(json: unknown): GeneratorConfig {
    return new GeneratorConfig(withoutName('Generator', json) as z.input<typeof generatorSchema>);
  }

  inputShape(): number[] {
    return [this.fields.latentSize];
  }

  build(builder: GraphBuilder, input: Value): Value {
    return buildGenerator(builder, input, this.fields);
  }
}
