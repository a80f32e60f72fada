// Layers for transformers and channel attention: multi-head self-attention (nn.MultiheadAttention
// naming), learned or sine-cosine positional embedding, class token, and squeeze-and-excitation
// (MONAI's ChannelSELayer naming).

import { ArgumentError } from '../errors.js';
import type { Value } from '../ir.js';
import { defaultBiasInit, defaultWeightInit } from '../init-spec.js';
import { defineLayer, spatialDimsOf, type LayerDef } from './define.js';
import { sincosPositionTable } from './sincos.js';
import type { GraphBuilder } from '../builder.js';

function tokens(layer: string, x: Value): [number, number, number] {
  if (x.shape.length !== 3) {
    throw new ArgumentError(
      `${layer} needs an input [N, L, E] (batch, tokens, embedding), got [${x.shape.join(', ')}]`,
    );
  }
  return [x.shape[0], x.shape[1], x.shape[2]];
}

/** Takes part `index` of axis 0 from [3, N, H, L, Dh] and drops that axis. */
function takePart(builder: GraphBuilder, packed: Value, index: number): Value {
  const [, ...rest] = packed.shape;
  const part = builder.op('slice', [packed], {
    begin: packed.shape.map((_, axis) => (axis === 0 ? index : 0)),
    end: packed.shape.map((size, axis) => (axis === 0 ? index + 1 : size)),
    step: packed.shape.map(() => 1),
  });
  return builder.op('reshape', [part], { shape: rest });
}

function linearParams(
  builder: GraphBuilder,
  name: string,
  outFeatures: number,
  inFeatures: number,
) {
  const shape = [outFeatures, inFeatures];
  return builder.scope(name, () => [
    builder.param('weight', shape, defaultWeightInit(shape)),
    builder.param('bias', [outFeatures], defaultBiasInit(shape)),
  ]);
}

/** Projects [N, L, E] tokens to query, key and value, each [N, heads, L, E / heads]. */
function projectHeads(builder: GraphBuilder, x: Value, heads: number): Value[] {
  const [batch, length, embed] = x.shape;
  // PyTorch's in-projection: xavier_uniform weight [3E, E], zero bias.
  const weight = builder.param('in_proj_weight', [3 * embed, embed], {
    kind: 'xavierUniform',
    gain: 1,
    fanIn: embed,
    fanOut: 3 * embed,
  });
  const bias = builder.param('in_proj_bias', [3 * embed], { kind: 'constant', value: 0 });
  const packed = builder.op('linear', [x, weight, bias], {});
  const split = builder.op('reshape', [packed], {
    shape: [batch, length, 3, heads, embed / heads],
  });
  const parts = builder.op('permute', [split], { axes: [2, 0, 3, 1, 4] });
  return [0, 1, 2].map((index) => takePart(builder, parts, index));
}

/** Computes softmax(q · kᵀ / √d) · v per head, with optional dropout on the weights. */
function attend(builder: GraphBuilder, [query, key, value]: Value[], dropout: number): Value {
  const headDim = query.shape[3];
  const scaled = builder.op('scale', [query], { factor: 1 / Math.sqrt(headDim) });
  const scores = builder.op('matmul', [scaled, key], { transposeA: false, transposeB: true });
  let weights = builder.op('softmax', [scores], { axis: 3 });
  if (dropout > 0) weights = builder.op('dropout', [weights], { p: dropout });
  return builder.op('matmul', [weights, value], { transposeA: false, transposeB: false });
}

/** Merges [N, heads, L, d] back to [N, L, heads * d] and applies out_proj. */
function mergeHeads(builder: GraphBuilder, context: Value): Value {
  const [batch, heads, length, headDim] = context.shape;
  const embed = heads * headDim;
  const tokensFirst = builder.op('permute', [context], { axes: [0, 2, 1, 3] });
  const merged = builder.op('reshape', [tokensFirst], { shape: [batch, length, embed] });
  // PyTorch keeps the Linear default init of out_proj.weight and zeroes out_proj.bias.
  const shape = [embed, embed];
  const [weight, bias] = builder.scope('out_proj', () => [
    builder.param('weight', shape, defaultWeightInit(shape)),
    builder.param('bias', [embed], { kind: 'constant', value: 0 }),
  ]);
  return builder.op('linear', [merged, weight, bias], {});
}

const multiHeadSelfAttention = defineLayer({
  name: 'multiHeadSelfAttention',
  doc: 'Scaled dot-product self-attention over [N, L, E] tokens (nn.MultiheadAttention)',
  inputs: 1,
  params: [
    { name: 'numHeads', type: 'int', min: 1, doc: 'attention heads; must divide E' },
    { name: 'dropout', type: 'float', min: 0, default: 0, doc: 'dropout on attention weights' },
  ],
  build(builder, [x], args) {
    const [, , embed] = tokens('multiHeadSelfAttention', x);
    const heads = args.int('numHeads');
    if (embed % heads !== 0) {
      throw new ArgumentError(
        `multiHeadSelfAttention: numHeads (${heads}) must divide the embedding size ${embed}`,
        'numHeads',
      );
    }
    const context = attend(builder, projectHeads(builder, x, heads), args.float('dropout'));
    return mergeHeads(builder, context);
  },
});

/**
 * Adds the fixed sine-cosine table of a patch grid to [N, L, E] tokens. Tokens in front of the
 * grid's (a class token) get zero rows, so L may exceed the grid's token count.
 */
function addSincosTable(builder: GraphBuilder, x: Value, grid: readonly number[]): Value {
  const [, length, embed] = x.shape;
  const cells = grid.reduce((a, b) => a * b, 1);
  if (grid.length < 2 || grid.length > 3 || embed % (2 * grid.length) !== 0 || cells > length) {
    throw new ArgumentError(
      `positionalEmbedding: kind 'sincos' needs a grid of 2 or 3 axes with at most L = ` +
        `${length} cells and an embedding size divisible by 4 (2D) or 6 (3D); got grid ` +
        `[${grid.join(', ')}] and embedding size ${embed}`,
      'grid',
    );
  }
  const table = new Float32Array(length * embed);
  table.set(sincosPositionTable(grid, embed), (length - cells) * embed);
  // NOTE: the table is a graph constant, so unlike MONAI's frozen nn.Parameter it is not part
  // of the state_dict.
  const constant = builder.graph.addConstant(table, [1, length, embed]);
  return builder.op('add', [x, constant], {});
}

const positionalEmbedding = defineLayer({
  name: 'positionalEmbedding',
  doc: 'Adds a learned [1, L, E] embedding (the param named by the layer) or a sine-cosine table',
  inputs: 1,
  params: [
    {
      name: 'kind',
      type: 'enum',
      values: ['learnable', 'sincos'],
      default: 'learnable',
      doc: "'learnable' (a param) or 'sincos' (MONAI's fixed table over `grid`)",
    },
    {
      name: 'std',
      type: 'float',
      min: 0,
      default: 0.02,
      doc: 'standard deviation of the learnable init',
    },
    {
      name: 'grid',
      type: 'ints',
      min: 1,
      default: null,
      doc: "patch grid of kind 'sincos', 2 or 3 axes; leading extra tokens get zeros",
    },
  ],
  build(builder, [x], args) {
    const [, length, embed] = tokens('positionalEmbedding', x);
    if (args.string('kind') === 'sincos') {
      if (args.isNull('grid')) {
        throw new ArgumentError(
          "positionalEmbedding: kind 'sincos' needs the argument grid (patches per axis)",
          'grid',
        );
      }
      return addSincosTable(builder, x, args.list('grid'));
    }
    const table = builder.param('', [1, length, embed], {
      kind: 'normal',
      mean: 0,
      std: args.float('std'),
    });
    return builder.op('add', [x, table], {});
  },
});

const classToken = defineLayer({
  name: 'classToken',
  doc: 'Prepends a learned [1, 1, E] token (zeros at init) to every sample',
  inputs: 1,
  params: [],
  build(builder, [x]) {
    const [batch, , embed] = tokens('classToken', x);
    const token = builder.param('', [1, 1, embed], { kind: 'constant', value: 0 });
    const expanded = builder.op('broadcastTo', [token], { shape: [batch, 1, embed] });
    return builder.op('concat', [expanded, x], { axis: 1 });
  },
});

const squeezeExcitation = defineLayer({
  name: 'squeezeExcitation',
  doc: 'Channel reweighting: pool, linear, ReLU, linear, sigmoid, multiply (ChannelSELayer)',
  inputs: 1,
  params: [
    {
      name: 'reduction',
      type: 'int',
      min: 1,
      default: 16,
      doc: 'channel reduction in the bottleneck',
    },
  ],
  build(builder, [x], args) {
    const spatialDims = spatialDimsOf('squeezeExcitation', x);
    const [batch, channels] = x.shape;
    const reduced = Math.floor(channels / args.int('reduction'));
    if (reduced < 1) {
      throw new ArgumentError(
        `squeezeExcitation: reduction (${args.int('reduction')}) must be at most the channel ` +
          `count ${channels}`,
        'reduction',
      );
    }
    const ones = new Array<number>(spatialDims).fill(1);
    const pooled = builder.scope('avg_pool', () =>
      builder.op('adaptiveAvgPool', [x], { outputSize: ones }),
    );
    const flat = builder.op('reshape', [pooled], { shape: [batch, channels] });
    const gate = builder.scope('fc', () => {
      const first = builder.scope('0', () =>
        builder.op('linear', [flat, ...linearParams(builder, '', reduced, channels)], {}),
      );
      const hidden = builder.scope('1', () => builder.op('relu', [first], {}));
      const second = builder.scope('2', () =>
        builder.op('linear', [hidden, ...linearParams(builder, '', channels, reduced)], {}),
      );
      return builder.scope('3', () => builder.op('sigmoid', [second], {}));
    });
    const weights = builder.op('reshape', [gate], { shape: [batch, channels, ...ones] });
    return builder.op('mul', [x, weights], {});
  },
});

export const ATTENTION_LAYERS: LayerDef[] = [
  multiHeadSelfAttention,
  positionalEmbedding,
  classToken,
  squeezeExcitation,
];
