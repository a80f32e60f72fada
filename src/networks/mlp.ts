// MLP: ClinicaDL's fully connected network (MONAI's FullyConnectedNet with an output activation).
// Modules: flatten, hidden<i> (linear, adn), output (linear, output_act).

import { z } from 'zod';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { layer } from '../graph/layers.js';
import { applyActivation, applyAdn } from './blocks.js';
import {
  activationSchema,
  adnOrderingSchema,
  dropoutSchema,
  NetworkConfig,
  normSchema,
  parseConfig,
  positiveInt,
  withoutName,
} from './config.js';

/** The MLP fields other networks take as `mlpArgs` (all but numInputs and numOutputs). */
export const mlpArgsShape = {
  /** Output features of each hidden layer; its length is the number of hidden layers. */
  hiddenDims: z.array(positiveInt),
  /** Activation after each hidden linear layer (default 'prelu'); null for none. */
  act: activationSchema.nullable().default('prelu'),
  /** Activation applied to the network output (default none). */
  outputAct: activationSchema.nullable().default(null),
  /** Normalisation after each hidden linear layer (default 'batch'); null for none. */
  norm: normSchema.nullable().default('batch'),
  /** Dropout probability after each hidden linear layer (default none). */
  dropout: dropoutSchema,
  /** Learned bias in the linear layers (default true). */
  bias: z.boolean().default(true),
  /** Order of Activation, Dropout and Normalisation after hidden layers (default 'NDA'). */
  adnOrdering: adnOrderingSchema.default('NDA'),
};

export const mlpArgsSchema = z.strictObject(mlpArgsShape);
export type MLPArgs = z.output<typeof mlpArgsSchema>;

export const mlpSchema = z.strictObject({
  /** Input features (the input is flattened from axis 1). */
  numInputs: positiveInt,
  /** Output features. */
  numOutputs: positiveInt,
  ...mlpArgsShape,
});
export type MLPFields = z.output<typeof mlpSchema>;

export interface MlpBuildOptions {
  /** Stop after the hidden layers (a VAE puts its own heads there). */
  withoutOutput?: boolean;
}

/** Adds the MLP modules in the current scope and returns the output. */
export function buildMlp(
  builder: GraphBuilder,
  x: Value,
  fields: MLPArgs & { numOutputs: number },
  options: MlpBuildOptions = {},
): Value {
  let y = layer(builder, 'flatten', x, {}, 'flatten');
  fields.hiddenDims.forEach((features, index) => {
    y = builder.scope(`hidden${index}`, () => {
      const linear = layer(
        builder,
        'linear',
        y,
        { outFeatures: features, bias: fields.bias },
        'linear',
      );
      return builder.scope('adn', () =>
        applyAdn(builder, linear, {
          ordering: fields.adnOrdering,
          act: fields.act,
          norm: fields.norm,
          dropout: fields.dropout,
        }),
      );
    });
  });
  if (options.withoutOutput) return y;
  return buildMlpHead(builder, y, fields.numOutputs, fields, 'output');
}

/** Adds the output module `name`: a linear layer and the optional output activation. */
export function buildMlpHead(
  builder: GraphBuilder,
  x: Value,
  numOutputs: number,
  fields: Pick<MLPArgs, 'bias' | 'outputAct'>,
  name: string,
): Value {
  return builder.scope(name, () => {
    const y = layer(builder, 'linear', x, { outFeatures: numOutputs, bias: fields.bias }, 'linear');
    return fields.outputAct === null
      ? y
      : applyActivation(builder, y, fields.outputAct, 'output_act');
  });
}

/** Config of ClinicaDL's MLP. */
export class MLPConfig extends NetworkConfig<MLPFields> {
  readonly name = 'MLP';

  constructor(input: z.input<typeof mlpSchema>) {
    super(parseConfig('MLP', mlpSchema, input));
  }

  static fromJSON(json: unknown): MLPConfig {
    return new MLPConfig(withoutName('MLP', json) as z.input<typeof mlpSchema>);
  }

  inputShape(): number[] {
    return [this.fields.numInputs];
  }

  build(builder: GraphBuilder, input: Value): Value {
    return buildMlp(builder, input, this.fields);
  }
}
