import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ShapeError } from '../../src/graph/errors.js';
import { Graph, type Shape } from '../../src/graph/ir.js';
import { CONV_OPS } from '../../src/graph/ops/conv.js';
import { ELEMENTWISE_OPS } from '../../src/graph/ops/elementwise.js';
import { OPS, type OpAttrs, type OpName } from '../../src/graph/ops/index.js';
import { LINEAR_OPS } from '../../src/graph/ops/linear.js';
import { NORM_OPS } from '../../src/graph/ops/norm.js';
import { POOL_OPS } from '../../src/graph/ops/pool.js';
import { REDUCE_OPS } from '../../src/graph/ops/reduce.js';
import { SHAPE_OPS } from '../../src/graph/ops/shape.js';

/** The primitive forward ops of the layers (gradient and loss ops are tested with the engine). */
const LAYER_OPS = Object.keys({
  ...CONV_OPS,
  ...POOL_OPS,
  ...NORM_OPS,
  ...LINEAR_OPS,
  ...SHAPE_OPS,
  ...ELEMENTWISE_OPS,
  ...REDUCE_OPS,
}) as OpName[];

const pad = (...sizes: number[]) => sizes.map((size): [number, number] => [size, size]);
const conv = (stride: number[], padding: [number, number][], dilation: number[], groups = 1) => ({
  stride,
  padding,
  dilation,
  groups,
});

interface ShapeCase<K extends OpName = OpName> {
  op: K;
  label: string;
  inputs: Shape[];
  attrs: OpAttrs[K];
  /** Expected output shapes, computed by hand (and checked with PyTorch 1.13). */
  expected: Shape[];
}

const c = <K extends OpName>(
  op: K,
  label: string,
  inputs: Shape[],
  attrs: OpAttrs[K],
  expected: Shape[],
) => ({ op, label, inputs, attrs, expected }) as ShapeCase;

const none = {} as never;
const pool = (
  kernelSize: number[],
  stride: number[],
  padding: [number, number][],
  ceilMode: boolean,
) => ({
  kernelSize,
  stride,
  padding,
  ceilMode,
});

const SHAPE_CASES: ShapeCase[] = [
  c(
    'conv',
    '3D odd sizes, stride 2, padding 1',
    [[2, 1, 9, 10, 11], [4, 1, 3, 3, 3], [4]],
    conv([2, 2, 2], pad(1, 1, 1), [1, 1, 1]),
    [[2, 4, 5, 5, 6]],
  ),
  c(
    'conv',
    '1D dilation 3',
    [
      [1, 2, 15],
      [3, 2, 3],
    ],
    conv([1], pad(0), [3]),
    [[1, 3, 9]],
  ),
  c(
    'conv',
    '2D groups 2',
    [
      [1, 4, 8, 8],
      [6, 2, 3, 3],
    ],
    conv([1, 1], pad(0, 0), [1, 1], 2),
    [[1, 6, 6, 6]],
  ),
  c(
    'conv',
    "2D 'same' for an even kernel",
    [
      [1, 1, 7, 6],
      [2, 1, 4, 4],
    ],
    conv(
      [1, 1],
      [
        [1, 2],
        [1, 2],
      ],
      [1, 1],
    ),
    [[1, 2, 7, 6]],
  ),
  c(
    'convTranspose',
    '2D stride 2, output padding 1, groups 2',
    [
      [1, 4, 5, 5],
      [4, 2, 3, 3],
    ],
    { ...conv([2, 2], pad(1, 1), [1, 1], 2), outputPadding: [1, 1] },
    [[1, 4, 10, 10]],
  ),
  c(
    'convTranspose',
    '3D mixed stride, padding, dilation',
    [
      [1, 2, 3, 4, 5],
      [2, 3, 2, 3, 4],
    ],
    { ...conv([2, 1, 3], pad(0, 1, 1), [1, 2, 1]), outputPadding: [0, 0, 0] },
    [[1, 3, 6, 6, 14]],
  ),
  c(
    'maxPool',
    'ceil mode adds a window',
    [[1, 1, 7]],
    { ...pool([2], [2], pad(0), true), dilation: [1] },
    [[1, 1, 4]],
  ),
  c(
    'maxPool',
    'ceil mode drops a window starting in padding',
    [[1, 1, 5]],
    { ...pool([2], [2], pad(1), true), dilation: [1] },
    [[1, 1, 3]],
  ),
  c(
    'maxPool',
    '3D dilation 2, padding 1',
    [[1, 1, 9, 10, 11]],
    { ...pool([3, 3, 3], [2, 2, 2], pad(1, 1, 1), false), dilation: [2, 2, 2] },
    [[1, 1, 4, 4, 5]],
  ),
  c(
    'avgPool',
    '2D ceil mode with padding',
    [[1, 1, 6, 7]],
    { ...pool([3, 3], [2, 2], pad(1, 1), true), countIncludePad: true },
    [[1, 1, 4, 4]],
  ),
  c('adaptiveAvgPool', 'to 1x1x1', [[2, 8, 5, 6, 7]], { outputSize: [1, 1, 1] }, [[2, 8, 1, 1, 1]]),
  c('adaptiveMaxPool', 'to a larger size', [[1, 3, 4]], { outputSize: [6] }, [[1, 3, 6]]),
  c(
    'upsample',
    'scale 1.5 floors',
    [[1, 1, 5]],
    { mode: 'nearest', size: [7], scale: [1.5], alignCorners: false },
    [[1, 1, 7]],
  ),
  c(
    'upsample',
    'trilinear to a size',
    [[1, 2, 3, 4, 5]],
    { mode: 'linear', size: [6, 8, 9], scale: null, alignCorners: true },
    [[1, 2, 6, 8, 9]],
  ),
  c(
    'batchNorm',
    'affine with running stats',
    [[2, 3, 4, 4], [3], [3], [3], [3], []],
    { eps: 1e-5, momentum: 0.1, affine: true, trackRunningStats: true },
    [[2, 3, 4, 4]],
  ),
  c('instanceNorm', 'without affine', [[2, 3, 5]], { eps: 1e-5, affine: false }, [[2, 3, 5]]),
  c(
    'groupNorm',
    'four channels, two groups',
    [[2, 4, 3], [4], [4]],
    { numGroups: 2, eps: 1e-5, affine: true },
    [[2, 4, 3]],
  ),
  c(
    'layerNorm',
    'last two axes',
    [
      [2, 5, 3, 4],
      [3, 4],
      [3, 4],
    ],
    { normalizedShape: [3, 4], eps: 1e-6, affine: true },
    [[2, 5, 3, 4]],
  ),
  c('dropout', 'keeps the shape', [[2, 7]], { p: 0.3 }, [[2, 7]]),
  c('linear', 'on the last axis of rank 3', [[2, 3, 5], [7, 5], [7]], none, [[2, 3, 7]]),
  c(
    'matmul',
    'broadcast batch axes',
    [
      [2, 1, 3, 4],
      [5, 4, 6],
    ],
    { transposeA: false, transposeB: false },
    [[2, 5, 3, 6]],
  ),
  c(
    'matmul',
    'second input transposed',
    [
      [2, 3, 4],
      [2, 5, 4],
    ],
    { transposeA: false, transposeB: true },
    [[2, 3, 5]],
  ),
  c('reshape', 'flatten features', [[2, 3, 4, 5]], { shape: [2, 60] }, [[2, 60]]),
  c('permute', 'tokens first', [[2, 3, 4]], { axes: [1, 0, 2] }, [[3, 2, 4]]),
  c('broadcastTo', 'class token to the batch', [[1, 1, 8]], { shape: [4, 1, 8] }, [[4, 1, 8]]),
  c(
    'concat',
    'channels',
    [
      [2, 3, 4],
      [2, 5, 4],
    ],
    { axis: 1 },
    [[2, 8, 4]],
  ),
  c('slice', 'step 2 from 1', [[1, 10]], { begin: [0, 1], end: [1, 10], step: [1, 2] }, [[1, 5]]),
  c(
    'pad',
    'reflect spatial',
    [[1, 1, 4, 5]],
    {
      padding: [
        [0, 0],
        [0, 0],
        [1, 2],
        [3, 0],
      ],
      mode: 'reflect',
      value: 0,
    },
    [[1, 1, 7, 8]],
  ),
  c(
    'add',
    'broadcast both ways',
    [
      [2, 1, 4],
      [3, 1],
    ],
    none,
    [[2, 3, 4]],
  ),
  c('sub', 'scalar shape', [[2, 3], []], none, [[2, 3]]),
  c(
    'mul',
    'gate on channels',
    [
      [2, 6, 3, 3],
      [2, 6, 1, 1],
    ],
    none,
    [[2, 6, 3, 3]],
  ),
  c('div', 'same shapes', [[4], [4]], none, [[4]]),
  c('scale', 'keeps the shape', [[3, 2]], { factor: 0.5 }, [[3, 2]]),
  c('prelu', 'one slope per channel', [[2, 3, 4], [3]], none, [[2, 3, 4]]),
  c('softmax', 'over classes', [[4, 10]], { axis: 1 }, [[4, 10]]),
  c('logSoftmax', 'over the last axis', [[2, 3, 5]], { axis: 2 }, [[2, 3, 5]]),
  c('sum', 'keepDims', [[2, 3, 4]], { axes: [1, 2], keepDims: true }, [[2, 1, 1]]),
  c('mean', 'spatial axes', [[2, 3, 4, 5]], { axes: [2, 3], keepDims: false }, [[2, 3]]),
  c('max', 'all axes', [[2, 3]], { axes: [0, 1], keepDims: false }, [[]]),
];

const UNARY: OpName[] = [
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

describe('op shape inference', () => {
  for (const testCase of SHAPE_CASES) {
    it(`${testCase.op}: ${testCase.label}`, () => {
      const def = OPS[testCase.op];
      assert.deepEqual(def.inferShape(testCase.inputs, testCase.attrs as never), testCase.expected);
    });
  }

  for (const op of UNARY) {
    it(`${op}: keeps the input shape`, () => {
      assert.deepEqual(OPS[op].inferShape([[2, 3, 5]], {} as never), [[2, 3, 5]]);
    });
  }

  it('every layer op has a shape case', () => {
    const covered = new Set([...SHAPE_CASES.map((testCase) => testCase.op), ...UNARY]);
    assert.deepEqual(
      LAYER_OPS.filter((op) => !covered.has(op)),
      [],
    );
  });
});

interface FailCase<K extends OpName = OpName> {
  op: K;
  label: string;
  inputs: Shape[];
  attrs: OpAttrs[K];
  /** A fragment the reason must contain. */
  reason: string;
}

const f = <K extends OpName>(
  op: K,
  label: string,
  inputs: Shape[],
  attrs: OpAttrs[K],
  reason: string,
) => ({ op, label, inputs, attrs, reason }) as FailCase;

const FAIL_CASES: FailCase[] = [
  f(
    'conv',
    'channel mismatch',
    [
      [1, 3, 8, 8],
      [4, 2, 3, 3],
    ],
    conv([1, 1], pad(0, 0), [1, 1]),
    'expects 2 input channels',
  ),
  f(
    'conv',
    'kernel larger than input',
    [
      [1, 1, 2, 9],
      [1, 1, 3, 3],
    ],
    conv([1, 1], pad(0, 0), [1, 1]),
    'would produce size 0 along spatial axis 0',
  ),
  f(
    'conv',
    'stride per axis missing',
    [
      [1, 1, 8, 8],
      [1, 1, 3, 3],
    ],
    conv([1], pad(0, 0), [1, 1]),
    'stride has 1 entries',
  ),
  f(
    'conv',
    'groups do not divide',
    [
      [1, 3, 8],
      [4, 1, 3],
    ],
    conv([1], pad(0), [1], 2),
    'must both be divisible by groups (2)',
  ),
  f(
    'conv',
    'bias of wrong size',
    [[1, 1, 8], [4, 1, 3], [3]],
    conv([1], pad(0), [1]),
    'bias must have shape [4]',
  ),
  f(
    'conv',
    'rank 2 input',
    [
      [4, 8],
      [4, 4, 3],
    ],
    conv([1], pad(0), [1]),
    'must have rank 3 or 4 or 5',
  ),
  f(
    'convTranspose',
    'output padding too large',
    [
      [1, 2, 4],
      [2, 2, 3],
    ],
    { ...conv([2], pad(0), [1]), outputPadding: [2] },
    'must be smaller than stride',
  ),
  f(
    'maxPool',
    'padding above half the kernel',
    [[1, 1, 8]],
    { ...pool([2], [2], pad(2), false), dilation: [1] },
    'at most half the kernel size',
  ),
  f(
    'upsample',
    'size disagrees with scale',
    [[1, 1, 5]],
    { mode: 'nearest', size: [11], scale: [2], alignCorners: false },
    'does not match floor',
  ),
  f(
    'upsample',
    'alignCorners with nearest',
    [[1, 1, 5]],
    { mode: 'nearest', size: [10], scale: null, alignCorners: true },
    "mode 'linear' only",
  ),
  f(
    'batchNorm',
    'missing running stats',
    [[2, 3, 4], [3], [3]],
    { eps: 1e-5, momentum: 0.1, affine: true, trackRunningStats: true },
    'expected 6 inputs',
  ),
  f(
    'groupNorm',
    'groups do not divide channels',
    [[2, 6, 3]],
    { numGroups: 4, eps: 1e-5, affine: false },
    'divides the 6 channels',
  ),
  f(
    'layerNorm',
    'shape is not trailing',
    [[2, 5, 3]],
    { normalizedShape: [5], eps: 1e-5, affine: false },
    'must equal the trailing axes',
  ),
  f('dropout', 'probability above 1', [[2, 3]], { p: 1.5 }, 'must be in [0, 1]'),
  f(
    'linear',
    'feature mismatch',
    [
      [2, 6],
      [3, 5],
    ],
    none,
    'expects 5 input features',
  ),
  f(
    'matmul',
    'inner sizes differ',
    [
      [2, 3, 4],
      [2, 5, 6],
    ],
    { transposeA: false, transposeB: false },
    'inner sizes differ: 4',
  ),
  f('reshape', 'element count differs', [[2, 3]], { shape: [7] }, 'cannot reshape 6 elements'),
  f('permute', 'not a permutation', [[2, 3, 4]], { axes: [0, 0, 1] }, 'must be a permutation'),
  f('broadcastTo', 'size that is not 1', [[2, 3]], { shape: [4, 3] }, 'cannot broadcast [2, 3]'),
  f(
    'concat',
    'other axes differ',
    [
      [2, 3, 4],
      [2, 5, 5],
    ],
    { axis: 1 },
    'needs equal sizes',
  ),
  f('slice', 'end past the size', [[4]], { begin: [0], end: [5], step: [1] }, 'end <= 4'),
  f(
    'pad',
    'reflect wider than the axis',
    [[1, 3]],
    {
      padding: [
        [0, 0],
        [3, 0],
      ],
      mode: 'reflect',
      value: 0,
    },
    'must be smaller than its size 3',
  ),
  f('add', 'incompatible sizes', [[2, 3], [4]], none, 'cannot be broadcast'),
  f('prelu', 'slope count', [[2, 3, 4], [2]], none, 'must have shape [1] or [3]'),
  f('softmax', 'axis out of range', [[2, 3]], { axis: 2 }, 'out of range for rank 2'),
  f('sum', 'unsorted axes', [[2, 3, 4]], { axes: [2, 1], keepDims: false }, 'ascending order'),
];

describe('op shape errors', () => {
  for (const testCase of FAIL_CASES) {
    it(`${testCase.op}: ${testCase.label}`, () => {
      assert.throws(
        () => OPS[testCase.op].inferShape(testCase.inputs, testCase.attrs as never),
        (error: Error) => {
          assert.ok(error instanceof ShapeError, `expected a ShapeError, got ${error.name}`);
          assert.ok(error.message.includes(testCase.reason), error.message);
          return true;
        },
      );
    });
  }

  it('names op, layer and both shapes when added to a graph', () => {
    const graph = new Graph();
    const x = graph.addInput('x', [1, 3, 8, 8]);
    const weight = graph.addParam('block.conv.weight', [4, 2, 3, 3], {
      kind: 'constant',
      value: 0,
    });
    assert.throws(
      () => graph.addNode('conv', [x, weight], conv([1, 1], pad(0, 0), [1, 1]), 'block.conv'),
      (error: Error) => {
        assert.ok(error instanceof ShapeError);
        assert.equal(error.op, 'conv');
        assert.equal(error.scope, 'block.conv');
        assert.deepEqual(error.shapes, [
          [1, 3, 8, 8],
          [4, 2, 3, 3],
        ]);
        assert.ok(error.message.includes("op conv in layer 'block.conv'"), error.message);
        assert.ok(error.message.includes('[1, 3, 8, 8], [4, 2, 3, 3]'), error.message);
        return true;
      },
    );
  });
});

/** FLOPs computed by hand: a multiply-add counts 2, a bias add 1 per output. */
const FLOP_CASES: [string, () => number, number][] = [
  [
    'conv with bias',
    () =>
      OPS.conv.flops(
        [[1, 1, 4, 4], [2, 1, 3, 3], [2]],
        [[1, 2, 2, 2]],
        conv([1, 1], pad(0, 0), [1, 1]),
      ),
    2 * 9 * 8 + 8,
  ],
  [
    'grouped conv',
    () =>
      OPS.conv.flops(
        [
          [1, 4, 3],
          [6, 2, 3],
        ],
        [[1, 6, 1]],
        conv([1], pad(0), [1], 2),
      ),
    2 * 6 * 6,
  ],
  [
    'convTranspose',
    () =>
      OPS.convTranspose.flops(
        [
          [1, 2, 3],
          [2, 5, 2],
        ],
        [[1, 5, 4]],
        { ...conv([1], pad(0), [1]), outputPadding: [0] },
      ),
    2 * 10 * 6,
  ],
  [
    'linear with bias',
    () => OPS.linear.flops([[2, 5], [3, 5], [3]], [[2, 3]], none),
    2 * 5 * 6 + 6,
  ],
  [
    'matmul',
    () =>
      OPS.matmul.flops(
        [
          [2, 3, 4],
          [2, 4, 5],
        ],
        [[2, 3, 5]],
        { transposeA: false, transposeB: false },
      ),
    2 * 4 * 30,
  ],
  [
    'maxPool',
    () =>
      OPS.maxPool.flops([[1, 2, 4, 4]], [[1, 2, 2, 2]], {
        ...pool([2, 2], [2, 2], pad(0, 0), false),
        dilation: [1, 1],
      }),
    4 * 8,
  ],
  ['relu', () => OPS.relu.flops([[2, 3]], [[2, 3]], none), 6],
  ['reshape', () => OPS.reshape.flops([[2, 3]], [[6]], { shape: [6] }), 0],
];

describe('op FLOPs', () => {
  for (const [label, compute, expected] of FLOP_CASES) {
    it(label, () => assert.equal(compute(), expected));
  }
});
