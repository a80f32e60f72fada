// Vision Transformer (Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021) as
// ClinicaDL configures it, for 1 to 3 spatial axes, with torchvision's module names so torchvision
// weights load by name: class_token, conv_proj, encoder.{pos_embedding,
// layers.encoder_layer_<i>.{ln_1, self_attention, ln_2, mlp.0, mlp.3}, ln}, heads.head.

import { z } from 'zod';
import { UserError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { getLayer, layer, type LayerArgs } from '../graph/layers.js';
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
import { expandPerAxis, maybeActivation, perAxisSchema } from './resnet.js';

export interface ViTSettings {
  /** Input shape without the batch axis: [C, ...spatial]. */
  inShape: readonly number[];
  patchSize: readonly number[];
  numOutputs: number | null;
  embeddingDim: number;
  numLayers: number;
  numHeads: number;
  mlpDim: number;
  posEmbedType: 'learnable' | 'sincos' | null;
  outputAct: Activation | null;
  dropout: number | null;
}

/** torchvision's ViT layer norms use eps 1e-6, not PyTorch's default 1e-5. */
const LAYER_NORM_EPS = 1e-6;

/** Adds the position embedding in module 'pos_embedding', or nothing when posEmbedType is null. */
function addPositionEmbedding(
  builder: GraphBuilder,
  x: Value,
  settings: ViTSettings,
  grid: number[],
): Value {
  if (settings.posEmbedType === null) return x;
  const args: LayerArgs = settings.posEmbedType === 'sincos' ? { kind: 'sincos', grid } : {};
  return layer(builder, 'positionalEmbedding', x, args, 'pos_embedding');
}

/** torchvision's MLPBlock init: xavier_uniform_ weights and N(0, 1e-6²) biases. */
const MLP_INIT = { weightInit: 'xavierUniform', biasInit: 'normal', biasStd: 1e-6 };

/** Adds torchvision's EncoderBlock: x + attention(ln_1(x)), then y + mlp(ln_2(y)). */
function encoderBlock(builder: GraphBuilder, x: Value, settings: ViTSettings): Value {
  const dropout = settings.dropout ?? 0;
  const maybeDropout = (value: Value, name: string) =>
    dropout > 0 ? layer(builder, 'dropout', value, { p: dropout }, name) : value;

  let y = layer(builder, 'layerNorm', x, { eps: LAYER_NORM_EPS }, 'ln_1');
  y = layer(
    builder,
    'multiHeadSelfAttention',
    y,
    { numHeads: settings.numHeads, dropout },
    'self_attention',
  );
  y = maybeDropout(y, 'dropout');
  const attended = builder.op('add', [y, x], {});

  let z = layer(builder, 'layerNorm', attended, { eps: LAYER_NORM_EPS }, 'ln_2');
  z = builder.scope('mlp', () => {
    let hidden = layer(builder, 'linear', z, { outFeatures: settings.mlpDim, ...MLP_INIT }, '0');
    hidden = layer(builder, 'gelu', hidden, {}, '1');
    hidden = maybeDropout(hidden, '2');
    const outArgs = { outFeatures: settings.embeddingDim, ...MLP_INIT };
    return maybeDropout(layer(builder, 'linear', hidden, outArgs, '3'), '4');
  });
  return builder.op('add', [attended, z], {});
}

/**
 * Checks the ViT settings against each other and returns the patch grid. The errors name the
 * fields, and `sizeField` is the config field that sets the spatial size.
 */
export function checkViTSettings(
  network: string,
  settings: ViTSettings,
  sizeField: 'inShape' | 'imageSize' = 'inShape',
): number[] {
  const { inShape, patchSize, embeddingDim, numHeads } = settings;
  const spatial = inShape.slice(1);
  const grid = spatial.map((size, axis) => size / patchSize[axis]);
  if (grid.some((cells) => !Number.isInteger(cells))) {
    throw new UserError(
      `${network} config field '${sizeField}': spatial size [${spatial.join(', ')}] must be ` +
        `divisible by the patch size [${patchSize.join(', ')}] on every axis`,
    );
  }
  if (embeddingDim % numHeads !== 0) {
    throw new UserError(
      `${network} config field 'numHeads': ${numHeads} must divide embeddingDim ${embeddingDim}`,
    );
  }
  if (settings.posEmbedType === 'sincos') {
    const divisor = { 2: 4, 3: 6 }[spatial.length];
    if (divisor === undefined || embeddingDim % divisor !== 0) {
      throw new UserError(
        `${network} config field 'posEmbedType': 'sincos' needs 2 or 3 spatial axes and an ` +
          `embeddingDim divisible by 4 (2D) or 6 (3D); got ${spatial.length} axes and ` +
          `embeddingDim ${embeddingDim}`,
      );
    }
  }
  return grid;
}

/** Adds a ViT in the current scope; returns the logits, or the tokens when numOutputs is null. */
export function buildViT(builder: GraphBuilder, x: Value, settings: ViTSettings): Value {
  const grid = checkViTSettings('ViT', settings);
  const dim = settings.embeddingDim;
  const patch = settings.patchSize;
  // torchvision: trunc_normal_(std = sqrt(1 / fanIn)) weight, zero bias.
  const projection = { outChannels: dim, kernelSize: patch, stride: patch };
  const init = { weightInit: 'truncatedNormal', biasInit: 'zeros' };
  const patches = layer(builder, 'conv', x, { ...projection, ...init }, 'conv_proj');
  const flat = layer(builder, 'flatten', patches, { startDim: 2 }, '');
  let tokens = layer(builder, 'permute', flat, { axes: [0, 2, 1] }, '');
  // NOTE: torchvision registers class_token before conv_proj, so the state_dict order differs
  // from this creation order in that one entry.
  const classify = settings.numOutputs !== null;
  if (classify) tokens = layer(builder, 'classToken', tokens, {}, 'class_token');

  const encoded = builder.scope('encoder', () => {
    let y = addPositionEmbedding(builder, tokens, settings, grid);
    if (settings.dropout) y = layer(builder, 'dropout', y, { p: settings.dropout }, 'dropout');
    builder.scope('layers', () => {
      for (let index = 0; index < settings.numLayers; index++) {
        y = builder.scope(`encoder_layer_${index}`, () => encoderBlock(builder, y, settings));
      }
    });
    return layer(builder, 'layerNorm', y, { eps: LAYER_NORM_EPS }, 'ln');
  });
  if (!classify) return encoded;

  // The class token's output (torchvision's x[:, 0]) feeds the head.
  const sizes = [1, encoded.shape[1] - 1];
  const split = getLayer('split').build(builder, [encoded], { sizes, parts: [0] }, '');
  const pooled = layer(builder, 'reshape', (split as Value[])[0], { shape: [dim] }, '');
  // torchvision zeroes the head, so every class starts with the same logit.
  const head = { outFeatures: settings.numOutputs, weightInit: 'zeros', biasInit: 'zeros' };
  const logits = builder.scope('heads', () => layer(builder, 'linear', pooled, head, 'head'));
  return maybeActivation(builder, logits, settings.outputAct, 'output_act');
}

export const viTSchema = z.strictObject({
  /** Input shape without the batch axis: [C, ...spatial] with 1 to 3 spatial axes. */
  inShape: z.array(positiveInt).min(2).max(4),
  /** Patch size; must divide the spatial sizes of inShape. */
  patchSize: perAxisSchema,
  /** Outputs of the final linear layer; null returns the patch tokens after the encoder. */
  numOutputs: positiveInt.nullable(),
  /** Token embedding size; must be divisible by numHeads (default 768, ViT-Base). */
  embeddingDim: positiveInt.default(768),
  /** Transformer blocks (default 12). */
  numLayers: positiveInt.default(12),
  /** Attention heads per block (default 12). */
  numHeads: positiveInt.default(12),
  /** Hidden size of each block's MLP (default 3072). */
  mlpDim: positiveInt.default(3072),
  /** 'learnable', 'sincos' (fixed, 2D or 3D only) or null for none (default 'learnable'). */
  posEmbedType: z.enum(['learnable', 'sincos']).nullable().default('learnable'),
  /** Activation applied to the output (default 'tanh', ClinicaDL's default for ViT). */
  outputAct: activationSchema.nullable().default('tanh'),
  /** Dropout probability in the encoder and on attention weights (default none). */
  dropout: dropoutSchema,
});
export type ViTFields = z.output<typeof viTSchema>;

function viTSettings(fields: ViTFields): ViTSettings {
  const spatialDims = fields.inShape.length - 1;
  const patchSize = expandPerAxis(fields.patchSize, spatialDims, 'ViT', 'patchSize');
  return { ...fields, patchSize };
}

/** Config of ClinicaDL's ViT; inShape fixes the input, so toGraph needs only the batch size. */
export class ViTConfig extends NetworkConfig<ViTFields> {
  readonly name = 'ViT';

  constructor(input: z.input<typeof viTSchema>) {
    super(parseConfig('ViT', viTSchema, input));
    checkViTSettings(this.name, viTSettings(this.fields));
  }

  static fromJSON(json: unknown): ViTConfig {
    return new ViTConfig(withoutName('ViT', json) as z.input<typeof viTSchema>);
  }

  inputShape(): number[] {
    return [...this.fields.inShape];
  }

  build(builder: GraphBuilder, input: Value): Value {
    const [inChannels, ...spatial] = this.fields.inShape;
    checkInput(this.name, input, spatial.length, inChannels);
    const settings = viTSettings(this.fields);
    if (input.shape.slice(2).some((size, axis) => size !== spatial[axis])) {
      throw new UserError(
        `ViT was configured for inShape [${this.fields.inShape.join(', ')}] but got an input ` +
          `[${input.shape.join(', ')}]; the position embedding fixes the spatial size`,
      );
    }
    return buildViT(builder, input, settings);
  }
}
