// Vision Transformer (Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021) as
// ClinicaDL configures it, for 1 to 3 spatial axes, with torchvision's module names so torchvision
// weights load by name: class_token, conv_proj, encoder.{pos_embedding,
// layers.encoder_layer_<i>.{ln_1, self_attention, ln_2, mlp.0, mlp.3}, ln}, heads.head.

import { z } from 'zod';
import { UserError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { InitSpec } from '../graph/init-spec.js';
import type { Value } from '../graph/ir.js';
import { layer } from '../graph/layers.js';
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
import { convolution, expandPerAxis, linear, maybeActivation, perAxisSchema } from './resnet.js';

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

/**
 * Fixed sine-cosine position table [tokens, dim] over the patch grid, as MONAI's
 * build_sincos_position_embedding (temperature 10000): per axis, sin and cos of the grid index
 * times 1 / 10000^(k / n) for k < n = dim / (2 * axes), concatenated in the order w, h(, d).
 */
export function sincosPositionTable(grid: readonly number[], dim: number): Float32Array {
  const axes = grid.length;
  const perAxis = dim / (2 * axes);
  const tokens = grid.reduce((a, b) => a * b, 1);
  const table = new Float32Array(tokens * dim);
  // MONAI orders the axis blocks w, h, d: axis 1, then 0, then 2.
  const blockOrder = axes === 2 ? [1, 0] : [1, 0, 2];
  for (let token = 0; token < tokens; token++) {
    const index: number[] = [];
    let rest = token;
    for (let axis = axes - 1; axis >= 0; axis--) {
      index[axis] = rest % grid[axis];
      rest = Math.floor(rest / grid[axis]);
    }
    blockOrder.forEach((axis, block) => {
      for (let k = 0; k < perAxis; k++) {
        const angle = index[axis] / Math.pow(10000, k / perAxis);
        table[token * dim + 2 * block * perAxis + k] = Math.sin(angle);
        table[token * dim + (2 * block + 1) * perAxis + k] = Math.cos(angle);
      }
    });
  }
  return table;
}

function addPositionEmbedding(
  builder: GraphBuilder,
  x: Value,
  settings: ViTSettings,
  grid: number[],
): Value {
  if (settings.posEmbedType === 'learnable') {
    return layer(builder, 'positionalEmbedding', x, {}, 'pos_embedding');
  }
  if (settings.posEmbedType === null) return x;
  const [, length, dim] = x.shape;
  const patches = sincosPositionTable(grid, dim);
  // The class token, when present, gets a zero row in front.
  const table = new Float32Array(length * dim);
  table.set(patches, (length - patches.length / dim) * dim);
  // NOTE: the table is a graph constant, so unlike ClinicaDL's frozen nn.Parameter it is not
  // part of the state_dict.
  const constant = builder.graph.addConstant(table, [1, length, dim]);
  return builder.op('add', [x, constant], {});
}

/** torchvision's MLPBlock init: xavier_uniform_ weights and N(0, 1e-6²) biases. */
function xavierUniform(shape: readonly number[]): InitSpec {
  return { kind: 'xavierUniform', gain: 1, fanIn: shape[1], fanOut: shape[0] };
}
const MLP_BIAS_INIT: InitSpec = { kind: 'normal', mean: 0, std: 1e-6 };

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
    let hidden = linear(builder, z, '0', settings.mlpDim, xavierUniform, MLP_BIAS_INIT);
    hidden = layer(builder, 'gelu', hidden, {}, '1');
    hidden = maybeDropout(hidden, '2');
    const out = linear(builder, hidden, '3', settings.embeddingDim, xavierUniform, MLP_BIAS_INIT);
    return maybeDropout(out, '4');
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
  const [batch] = x.shape;
  const dim = settings.embeddingDim;
  const classify = settings.numOutputs !== null;
  // Created first so the state_dict order is torchvision's.
  const classToken = classify
    ? builder.param('class_token', [1, 1, dim], { kind: 'constant', value: 0 })
    : null;

  // torchvision: trunc_normal_(std = sqrt(1 / fanIn)) weight, zero bias.
  const patches = convolution(builder, x, 'conv_proj', {
    outChannels: dim,
    kernelSize: settings.patchSize,
    stride: settings.patchSize,
    padding: settings.patchSize.map(() => 0),
    weightInit: (shape) => {
      const std = Math.sqrt(1 / shape.slice(1).reduce((a, b) => a * b, 1));
      return { kind: 'truncatedNormal', mean: 0, std, low: -2, high: 2 };
    },
    biasInit: { kind: 'constant', value: 0 },
  });
  const length = grid.reduce((a, b) => a * b, 1);
  const flat = builder.op('reshape', [patches], { shape: [batch, dim, length] });
  let tokens = builder.op('permute', [flat], { axes: [0, 2, 1] });
  if (classToken !== null) {
    const expanded = builder.op('broadcastTo', [classToken], { shape: [batch, 1, dim] });
    tokens = builder.op('concat', [expanded, tokens], { axis: 1 });
  }

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
  const first = builder.op('slice', [encoded], {
    begin: [0, 0, 0],
    end: [batch, 1, dim],
    step: [1, 1, 1],
  });
  const pooled = builder.op('reshape', [first], { shape: [batch, dim] });
  // torchvision zeroes the head, so every class starts with the same logit.
  const zero: InitSpec = { kind: 'constant', value: 0 };
  const logits = builder.scope('heads', () =>
    linear(builder, pooled, 'head', settings.numOutputs as number, () => zero, zero),
  );
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
