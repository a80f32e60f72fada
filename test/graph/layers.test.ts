import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { UserError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { ArgumentError } from '../../src/graph/errors.js';
import type { InitSpec } from '../../src/graph/init-spec.js';
import type { Value } from '../../src/graph/ir.js';
import { bindArguments, getLayer, layer, LAYERS, type LayerArgs } from '../../src/graph/layers.js';

/** Per layer: input shapes, arguments, expected output shapes and state names (params, buffers). */
interface LayerCase {
  type: string;
  inputs: number[][];
  args: LayerArgs;
  outputs: number[][];
  state: string[];
}

const LAYER_CASES: LayerCase[] = [
  {
    type: 'conv',
    inputs: [[2, 1, 7, 6]],
    args: { outChannels: 2, kernelSize: 4, padding: 'same' },
    outputs: [[2, 2, 7, 6]],
    state: ['m.weight', 'm.bias'],
  },
  {
    type: 'convTranspose',
    inputs: [[1, 4, 5]],
    args: { outChannels: 2, kernelSize: 2, stride: 2, bias: false },
    outputs: [[1, 2, 10]],
    state: ['m.weight'],
  },
  {
    type: 'maxPool',
    inputs: [[1, 2, 9, 9]],
    args: { kernelSize: 3, stride: 2, padding: 1 },
    outputs: [[1, 2, 5, 5]],
    state: [],
  },
  {
    type: 'avgPool',
    inputs: [[1, 2, 9]],
    args: { kernelSize: 2 },
    outputs: [[1, 2, 4]],
    state: [],
  },
  {
    type: 'adaptiveAvgPool',
    inputs: [[1, 2, 9, 5, 3]],
    args: { outputSize: 1 },
    outputs: [[1, 2, 1, 1, 1]],
    state: [],
  },
  {
    type: 'adaptiveMaxPool',
    inputs: [[1, 2, 9]],
    args: { outputSize: [3] },
    outputs: [[1, 2, 3]],
    state: [],
  },
  {
    type: 'upsample',
    inputs: [[1, 1, 3, 4]],
    args: { scale: 2, mode: 'bilinear' },
    outputs: [[1, 1, 6, 8]],
    state: [],
  },
  {
    type: 'batchNorm',
    inputs: [[2, 3, 4]],
    args: {},
    outputs: [[2, 3, 4]],
    state: ['m.weight', 'm.bias', 'm.running_mean', 'm.running_var', 'm.num_batches_tracked'],
  },
  {
    type: 'instanceNorm',
    inputs: [[2, 3, 4]],
    args: { affine: true },
    outputs: [[2, 3, 4]],
    state: ['m.weight', 'm.bias'],
  },
  {
    type: 'groupNorm',
    inputs: [[2, 4, 4]],
    args: { numGroups: 2 },
    outputs: [[2, 4, 4]],
    state: ['m.weight', 'm.bias'],
  },
  {
    type: 'layerNorm',
    inputs: [[2, 5, 8]],
    args: { eps: 1e-6 },
    outputs: [[2, 5, 8]],
    state: ['m.weight', 'm.bias'],
  },
  { type: 'dropout', inputs: [[2, 5]], args: { p: 0.1 }, outputs: [[2, 5]], state: [] },
  {
    type: 'linear',
    inputs: [[2, 5]],
    args: { outFeatures: 3 },
    outputs: [[2, 3]],
    state: ['m.weight', 'm.bias'],
  },
  { type: 'flatten', inputs: [[2, 3, 4, 5]], args: {}, outputs: [[2, 60]], state: [] },
  { type: 'reshape', inputs: [[2, 12]], args: { shape: [3, -1] }, outputs: [[2, 3, 4]], state: [] },
  {
    type: 'permute',
    inputs: [[2, 3, 4]],
    args: { axes: [0, 2, 1] },
    outputs: [[2, 4, 3]],
    state: [],
  },
  { type: 'prelu', inputs: [[2, 3]], args: {}, outputs: [[2, 3]], state: ['m.weight'] },
  { type: 'softmax', inputs: [[2, 3]], args: { axis: -1 }, outputs: [[2, 3]], state: [] },
  { type: 'logSoftmax', inputs: [[2, 3]], args: {}, outputs: [[2, 3]], state: [] },
  { type: 'add', inputs: [[2, 3], [3]], args: {}, outputs: [[2, 3]], state: [] },
  {
    type: 'sub',
    inputs: [
      [2, 3],
      [2, 3],
    ],
    args: {},
    outputs: [[2, 3]],
    state: [],
  },
  {
    type: 'mul',
    inputs: [
      [2, 3],
      [2, 1],
    ],
    args: {},
    outputs: [[2, 3]],
    state: [],
  },
  { type: 'div', inputs: [[2, 3], [1]], args: {}, outputs: [[2, 3]], state: [] },
  {
    type: 'concat',
    inputs: [
      [2, 3, 4],
      [2, 1, 4],
      [2, 2, 4],
    ],
    args: {},
    outputs: [[2, 6, 4]],
    state: [],
  },
  {
    type: 'split',
    inputs: [[2, 7, 4]],
    args: { sizes: 3 },
    outputs: [
      [2, 3, 4],
      [2, 3, 4],
      [2, 1, 4],
    ],
    state: [],
  },
  { type: 'mean', inputs: [[2, 3, 4, 5]], args: { axes: [-1, -2] }, outputs: [[2, 3]], state: [] },
  {
    type: 'sum',
    inputs: [[2, 3]],
    args: { axes: 1, keepDims: true },
    outputs: [[2, 1]],
    state: [],
  },
  { type: 'max', inputs: [[2, 3]], args: { axes: [0] }, outputs: [[3]], state: [] },
  { type: 'scale', inputs: [[2, 3]], args: { factor: 2 }, outputs: [[2, 3]], state: [] },
  {
    type: 'pad',
    inputs: [[1, 1, 4, 4]],
    args: { padding: [1, 2], mode: 'replicate' },
    outputs: [[1, 1, 6, 8]],
    state: [],
  },
  {
    type: 'multiHeadSelfAttention',
    inputs: [[2, 5, 8]],
    args: { numHeads: 2 },
    outputs: [[2, 5, 8]],
    state: ['m.in_proj_weight', 'm.in_proj_bias', 'm.out_proj.weight', 'm.out_proj.bias'],
  },
  {
    type: 'positionalEmbedding',
    inputs: [[2, 5, 8]],
    args: {},
    outputs: [[2, 5, 8]],
    state: ['m'],
  },
  { type: 'classToken', inputs: [[2, 5, 8]], args: {}, outputs: [[2, 6, 8]], state: ['m'] },
  {
    type: 'squeezeExcitation',
    inputs: [[2, 8, 3, 3]],
    args: { reduction: 2 },
    outputs: [[2, 8, 3, 3]],
    state: ['m.fc.0.weight', 'm.fc.0.bias', 'm.fc.2.weight', 'm.fc.2.bias'],
  },
];

const SHAPE_KEEPING = [
  'relu',
  'leakyRelu',
  'elu',
  'selu',
  'celu',
  'gelu',
  'mish',
  'sigmoid',
  'tanh',
  'relu6',
  'softplus',
  'exp',
  'log',
  'sqrt',
  'neg',
];

function buildCase(testCase: LayerCase) {
  const builder = new GraphBuilder();
  const inputs = testCase.inputs.map((shape, i) => builder.input(`x${i}`, shape));
  const result = getLayer(testCase.type).build(builder, inputs, testCase.args, 'm');
  return { builder, outputs: (Array.isArray(result) ? result : [result]) as Value[] };
}

describe('layer registry', () => {
  for (const testCase of LAYER_CASES) {
    it(`${testCase.type}: shapes and state names`, () => {
      const { builder, outputs } = buildCase(testCase);
      assert.deepEqual(
        outputs.map((output) => output.shape),
        testCase.outputs,
      );
      assert.deepEqual(
        builder.graph.stateValues().map((value) => value.name),
        testCase.state,
      );
      for (const node of builder.graph.nodes) assert.ok(node.scope.startsWith('m'), node.scope);
    });
  }

  for (const type of SHAPE_KEEPING) {
    it(`${type}: keeps the shape`, () => {
      const builder = new GraphBuilder();
      assert.deepEqual(layer(builder, type, builder.input('x', [2, 3])).shape, [2, 3]);
    });
  }

  it('every layer has a case and documentation', () => {
    const covered = new Set([...LAYER_CASES.map((testCase) => testCase.type), ...SHAPE_KEEPING]);
    assert.deepEqual(
      Object.keys(LAYERS).filter((type) => !covered.has(type)),
      [],
    );
    for (const def of Object.values(LAYERS)) {
      assert.ok(def.doc.length > 0, def.name);
      for (const param of def.params) assert.ok(param.doc.length > 0, `${def.name}.${param.name}`);
    }
  });

  it("'same' padding puts the odd voxel after", () => {
    const { builder } = buildCase(LAYER_CASES[0]);
    assert.deepEqual(builder.graph.nodes[0].attrs, {
      stride: [1, 1],
      padding: [
        [1, 2],
        [1, 2],
      ],
      dilation: [1, 1],
      groups: 1,
    });
  });

  /** Each case: layer, input shape, arguments, expected weight init and bias init. */
  const INIT_CASES: [string, number[], LayerArgs, InitSpec, InitSpec | undefined][] = [
    [
      'conv',
      [1, 2, 8, 8],
      { outChannels: 4, kernelSize: 3 },
      { kind: 'kaimingUniform', a: Math.sqrt(5), fanIn: 18 },
      { kind: 'uniform', low: -1 / Math.sqrt(18), high: 1 / Math.sqrt(18) },
    ],
    [
      'conv',
      [1, 2, 8, 8],
      { outChannels: 4, kernelSize: 3, weightInit: 'kaimingNormalFanOut', bias: false },
      { kind: 'normal', mean: 0, std: Math.sqrt(2 / 36) },
      undefined,
    ],
    [
      'conv',
      [1, 2, 8, 8],
      { outChannels: 4, kernelSize: 3, weightInit: 'kaimingNormalFanIn', biasInit: 'zeros' },
      { kind: 'normal', mean: 0, std: Math.sqrt(2 / 18) },
      { kind: 'constant', value: 0 },
    ],
    [
      'convTranspose',
      [1, 2, 8],
      { outChannels: 4, kernelSize: 3, weightInit: 'truncatedNormal' },
      { kind: 'truncatedNormal', mean: 0, std: Math.sqrt(1 / 12), low: -2, high: 2 },
      { kind: 'uniform', low: -1 / Math.sqrt(12), high: 1 / Math.sqrt(12) },
    ],
    [
      'linear',
      [2, 6],
      { outFeatures: 3, weightInit: 'xavierUniform', biasInit: 'normal', biasStd: 1e-6 },
      { kind: 'xavierUniform', gain: 1, fanIn: 6, fanOut: 3 },
      { kind: 'normal', mean: 0, std: 1e-6 },
    ],
    [
      'linear',
      [2, 6],
      { outFeatures: 3, weightInit: 'normal', weightStd: 0.02, biasInit: 'zeros' },
      { kind: 'normal', mean: 0, std: 0.02 },
      { kind: 'constant', value: 0 },
    ],
    [
      'linear',
      [2, 6],
      { outFeatures: 3, weightInit: 'zeros' },
      { kind: 'constant', value: 0 },
      { kind: 'uniform', low: -1 / Math.sqrt(6), high: 1 / Math.sqrt(6) },
    ],
  ];

  for (const [type, shape, args, weightInit, biasInit] of INIT_CASES) {
    it(`${type} init ${String(args.weightInit ?? 'default')}`, () => {
      const builder = new GraphBuilder();
      layer(builder, type, builder.input('x', shape), args, 'm');
      assert.deepEqual(builder.graph.params[0].init, weightInit);
      assert.deepEqual(builder.graph.params[1]?.init, biasInit);
    });
  }

  it('scopes nest into state_dict names', () => {
    const builder = new GraphBuilder();
    const x = builder.input('x', [1, 1, 8]);
    builder.scope('layer1', () =>
      builder.scope('0', () => layer(builder, 'batchNorm', x, {}, 'bn1')),
    );
    assert.equal(builder.graph.buffers[0].name, 'layer1.0.bn1.running_mean');
    assert.equal(builder.graph.nodes[0].scope, 'layer1.0.bn1');
  });

  it('binds positional then named arguments', () => {
    const bound = bindArguments('conv', getLayer('conv').params, [4, 3], { stride: 2 });
    assert.equal(bound.outChannels, 4);
    assert.equal(bound.kernelSize, 3);
    assert.equal(bound.stride, 2);
    assert.equal(bound.padding, 0);
    assert.equal(bound.bias, true);
  });
});

/** Each case: layer, input shape, arguments and a fragment of the error message. */
const BAD_ARGUMENTS: [string, number[], LayerArgs, string][] = [
  ['conv', [1, 1, 8], { outChannels: 2, kernelSize: 3, strid: 2 }, "Did you mean 'stride'?"],
  ['conv', [1, 1, 8], { kernelSize: 3 }, "missing required argument 'outChannels'"],
  [
    'conv',
    [1, 1, 8],
    { outChannels: 2.5, kernelSize: 3 },
    "'outChannels' must be an integer, got 2.5",
  ],
  ['conv', [1, 1, 8], { outChannels: 0, kernelSize: 3 }, "'outChannels' must be >= 1, got 0"],
  ['conv', [1, 1, 8], { outChannels: 2, kernelSize: 3, padding: 'sam' }, "Did you mean 'same'?"],
  [
    'conv',
    [1, 1, 8],
    { outChannels: 2, kernelSize: 3, stride: 2, padding: 'same' },
    'needs stride 1',
  ],
  ['conv', [1, 1, 8, 8], { outChannels: 2, kernelSize: [3, 3, 3] }, 'has 3 entries'],
  [
    'conv',
    [1, 3, 8],
    { outChannels: 2, kernelSize: 3, groups: 2 },
    'must be divisible by groups (2)',
  ],
  ['conv', [3, 8], { outChannels: 2, kernelSize: 3 }, 'needs an input [N, C, ...spatial]'],
  ['batchNorm', [2, 3], { affine: 'yes' }, "'affine' must be true or false"],
  ['upsample', [1, 1, 4], { size: 8, scale: 2 }, 'exactly one of size and scale'],
  ['upsample', [1, 1, 4], { scale: 2, mode: 'trilinear' }, 'needs 3 spatial axes'],
  ['gelu', [2, 3], { approximate: 'fast' }, "one of 'none', 'tanh'"],
  ['linear', [2, 3], { outFeatures: 2, weightInit: 'normal' }, 'needs the argument weightStd'],
  [
    'conv',
    [1, 1, 8],
    { outChannels: 2, kernelSize: 3, weightInit: 'xavier' },
    "Did you mean 'xavierUniform'?",
  ],
  ['softmax', [2, 3], { axis: 2 }, 'use -2 to 1'],
  ['reshape', [2, 12], { shape: [5, -1] }, 'cannot hold 12 elements'],
  ['flatten', [2, 3, 4], { startDim: 2, endDim: 1 }, 'must not come after'],
  ['split', [2, 6], { sizes: [2, 2] }, 'must add up to 6'],
  ['multiHeadSelfAttention', [2, 5, 8], { numHeads: 3 }, 'must divide the embedding size 8'],
  ['multiHeadSelfAttention', [2, 8], { numHeads: 2 }, 'needs an input [N, L, E]'],
  ['squeezeExcitation', [2, 4, 3], { reduction: 8 }, 'at most the channel count 4'],
];

describe('layer argument errors', () => {
  for (const [type, shape, args, fragment] of BAD_ARGUMENTS) {
    it(`${type} rejects ${JSON.stringify(args)}`, () => {
      const builder = new GraphBuilder();
      assert.throws(
        () => layer(builder, type, builder.input('x', shape), args),
        (error: Error) => {
          assert.ok(error instanceof UserError, `expected a UserError, got ${error.name}`);
          assert.ok(error.message.includes(fragment), error.message);
          return true;
        },
      );
    });
  }

  it('names the argument for the language to point at', () => {
    const builder = new GraphBuilder();
    assert.throws(
      () => layer(builder, 'linear', builder.input('x', [2, 3]), { outFeatures: -1 }),
      (error: Error) => error instanceof ArgumentError && error.argument === 'outFeatures',
    );
  });

  it('suggests the closest layer name', () => {
    assert.throws(
      () => getLayer('batchnorm'),
      /Unknown layer 'batchnorm'. Did you mean 'batchNorm'\?/,
    );
  });

  it('rejects a wrong input count', () => {
    const builder = new GraphBuilder();
    const x = builder.input('x', [2, 3]);
    assert.throws(
      () => getLayer('add').build(builder, [x], {}, ''),
      /add takes 2 input tensor\(s\) but got 1/,
    );
  });
});
