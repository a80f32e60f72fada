// AutoEncoder and VAE: ClinicaDL's encoder ('encoder', a CNN to latentSize) and the mirrored
// decoder ('decoder', a Generator). The VAE replaces the encoder's MLP output layer by two heads,
// 'mu' and 'log_var', and decodes z = mu + noise * exp(log_var / 2).

import { z } from 'zod';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { layer } from '../graph/layers.js';
import { invertConvArgs, checkUnpoolingMode, UNPOOLING_MODES } from './autoencoder-invert.js';
import { buildCnn, checkInShape, inShapeSchema, mlpArgsOrDefault, type CNNFields } from './cnn.js';
import {
  activationSchema,
  NetworkConfig,
  parseConfig,
  type NetworkOutputs,
  positiveInt,
  withoutName,
} from './config.js';
import { convEncoderArgsSchema } from './conv-encoder.js';
import { buildGenerator } from './generator.js';
import { buildMlpHead, mlpArgsSchema } from './mlp.js';

export const autoEncoderSchema = z.strictObject({
  /** Input shape without the batch axis: [C, ...spatial]. */
  inShape: inShapeSchema,
  /** Size of the latent vector. */
  latentSize: positiveInt,
  /** ConvEncoder arguments of the encoder; `channels` is required. */
  convArgs: convEncoderArgsSchema,
  /** MLP arguments of the encoder (mirrored in the decoder). Null (default): one linear layer. */
  mlpArgs: mlpArgsSchema.nullable().default(null),
  /** Output channels; null (default) means as many as the input. */
  outChannels: positiveInt.nullable().default(null),
  /** Activation applied to the reconstruction (default none). */
  outputAct: activationSchema.nullable().default(null),
  /** Unpooling of the decoder: upsampling in this interpolation mode, or 'convtranspose'. */
  unpoolingMode: z.enum(UNPOOLING_MODES).default('nearest'),
});
export type AutoEncoderFields = z.output<typeof autoEncoderSchema>;

function encoderFields(fields: AutoEncoderFields): CNNFields {
  const { inShape, latentSize, convArgs, mlpArgs } = fields;
  return { inShape, numOutputs: latentSize, convArgs, mlpArgs };
}

/** Adds the encoder; `withoutOutput` stops before the encoder MLP's output layer (VAE). */
function buildEncoder(
  builder: GraphBuilder,
  x: Value,
  fields: AutoEncoderFields,
  withoutOutput: boolean,
) {
  checkUnpoolingMode(fields.unpoolingMode, fields.inShape.length - 1);
  return builder.scope('encoder', () =>
    buildCnn(builder, x, encoderFields(fields), { withoutOutput }),
  );
}

function buildDecoder(
  builder: GraphBuilder,
  z: Value,
  fields: AutoEncoderFields,
  encoded: ReturnType<typeof buildEncoder>,
) {
  const { convArgs, inShape } = fields;
  const interChannels =
    convArgs.channels.length > 0 ? convArgs.channels[convArgs.channels.length - 1] : inShape[0];
  const encoderMlp = mlpArgsOrDefault(fields.mlpArgs);
  const decoderConvArgs = invertConvArgs(
    convArgs,
    encoded.trace,
    fields.outChannels ?? inShape[0],
    fields.outputAct,
    fields.unpoolingMode,
  );
  return builder.scope('decoder', () =>
    buildGenerator(builder, z, {
      latentSize: fields.latentSize,
      startShape: [interChannels, ...encoded.trace.finalSize],
      convArgs: decoderConvArgs,
      mlpArgs: { ...encoderMlp, hiddenDims: [...encoderMlp.hiddenDims].reverse() },
    }),
  );
}

/** Config of ClinicaDL's AutoEncoder. */
export class AutoEncoderConfig extends NetworkConfig<AutoEncoderFields> {
  readonly name: string = 'AutoEncoder';

  constructor(input: z.input<typeof autoEncoderSchema>, network = 'AutoEncoder') {
    super(parseConfig(network, autoEncoderSchema, input));
  }

  static fromJSON(json: unknown): AutoEncoderConfig {
    return new AutoEncoderConfig(
      withoutName('AutoEncoder', json) as z.input<typeof autoEncoderSchema>,
    );
  }

  inputShape(): number[] {
    return [...this.fields.inShape];
  }

  build(builder: GraphBuilder, input: Value): NetworkOutputs {
    checkInShape(this.name, input, this.fields.inShape);
    const encoded = buildEncoder(builder, input, this.fields, false);
    return buildDecoder(builder, encoded.output, this.fields, encoded);
  }
}

/**
 * Config of ClinicaDL's VAE. Its graph has a second input, 'noise' [N, latentSize]: the caller
 * feeds standard normal noise in train mode. ClinicaDL's eval mode returns mu + exp(log_var / 2)
 * (not mu), which a noise of ones reproduces.
 */
export class VAEConfig extends AutoEncoderConfig {
  override readonly name = 'VAE';

  constructor(input: z.input<typeof autoEncoderSchema>) {
    super(input, 'VAE');
  }

  static override fromJSON(json: unknown): VAEConfig {
    return new VAEConfig(withoutName('VAE', json) as z.input<typeof autoEncoderSchema>);
  }

  override build(builder: GraphBuilder, input: Value): Record<string, Value> {
    checkInShape('VAE', input, this.fields.inShape);
    const encoded = buildEncoder(builder, input, this.fields, true);
    const head = mlpArgsOrDefault(this.fields.mlpArgs);
    const latent = this.fields.latentSize;
    const mu = buildMlpHead(builder, encoded.output, latent, head, 'mu');
    const logVar = buildMlpHead(builder, encoded.output, latent, head, 'log_var');
    const noise = builder.input('noise', [input.shape[0], latent]);
    const std = layer(builder, 'exp', layer(builder, 'scale', logVar, { factor: 0.5 }));
    const sample = builder.op('add', [builder.op('mul', [noise, std], {}), mu], {});
    const reconstruction = buildDecoder(builder, sample, this.fields, encoded);
    return { reconstruction, mu, logVar };
  }
}
