// CNN: ClinicaDL's classifier/regressor, a ConvEncoder ('convolutions') followed by an MLP
// ('mlp'). Without mlpArgs the MLP is a single linear layer.

import { z } from 'zod';
import { UserError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import { numElements, type Value } from '../graph/ir.js';
import { NetworkConfig, parseConfig, positiveInt, withoutName } from './config.js';
import { buildConvEncoder, convEncoderArgsSchema, type EncoderTrace } from './conv-encoder.js';
import { buildMlp, mlpArgsSchema, type MLPArgs } from './mlp.js';

/** Per-sample image shape [C, ...spatial] with 1 to 3 spatial axes. */
export const inShapeSchema = z.array(positiveInt).min(2).max(4);

export const cnnSchema = z.strictObject({
  /** Input shape without the batch axis: [C, ...spatial]; sets spatialDims and inChannels. */
  inShape: inShapeSchema,
  /** Number of outputs. */
  numOutputs: positiveInt,
  /** ConvEncoder arguments; `channels` is required. */
  convArgs: convEncoderArgsSchema,
  /** MLP arguments; `hiddenDims` is required. Null (default) means one linear layer. */
  mlpArgs: mlpArgsSchema.nullable().default(null),
});
export type CNNFields = z.output<typeof cnnSchema>;

/** Returns the MLP arguments to use: the given ones, or defaults with no hidden layer. */
export function mlpArgsOrDefault(mlpArgs: MLPArgs | null): MLPArgs {
  return mlpArgs ?? mlpArgsSchema.parse({ hiddenDims: [] });
}

/** Checks that `input` is [N, ...inShape]. */
export function checkInShape(network: string, input: Value, inShape: readonly number[]): void {
  const same =
    input.shape.length === inShape.length + 1 &&
    inShape.every((size, axis) => input.shape[axis + 1] === size);
  if (!same) {
    throw new UserError(
      `${network} expects an input [N, ${inShape.join(', ')}] (inShape), got ` +
        `[${input.shape.join(', ')}]`,
    );
  }
}

export interface CnnBuild {
  output: Value;
  trace: EncoderTrace;
  /** Flattened feature count entering the MLP. */
  flatFeatures: number;
}

/** Adds 'convolutions' and 'mlp' in the current scope. */
export function buildCnn(
  builder: GraphBuilder,
  x: Value,
  fields: CNNFields,
  options: { withoutOutput?: boolean } = {},
): CnnBuild {
  const encoded = builder.scope('convolutions', () =>
    buildConvEncoder(builder, x, fields.convArgs),
  );
  const flatFeatures = numElements(encoded.output.shape.slice(1));
  const mlpArgs = { ...mlpArgsOrDefault(fields.mlpArgs), numOutputs: fields.numOutputs };
  const output = builder.scope('mlp', () => buildMlp(builder, encoded.output, mlpArgs, options));
  return { output, trace: encoded.trace, flatFeatures };
}

/** Config of ClinicaDL's CNN. */
export class CNNConfig extends NetworkConfig<CNNFields> {
  readonly name = 'CNN';

  constructor(input: z.input<typeof cnnSchema>) {
    super(parseConfig('CNN', cnnSchema, input));
  }

  static fromJSON(json: unknown): CNNConfig {
    return new CNNConfig(withoutName('CNN', json) as z.input<typeof cnnSchema>);
  }

  inputShape(): number[] {
    return [...this.fields.inShape];
  }

  build(builder: GraphBuilder, input: Value): Value {
    checkInShape('CNN', input, this.fields.inShape);
    return buildCnn(builder, input, this.fields).output;
  }
}
