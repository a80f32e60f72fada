// The vector-Jacobian rule of every forward op of the table. Each rule emits IR through the
// context, so gradients of gradients and fusion work on the same representation.

import '../losses/vjp.js';
import { registerVjp, type VjpContext } from './autodiff-registry.js';
import type { UnaryAttrs } from './autodiff-ops.js';
import { numElements, type Node, type Shape, type Value } from './ir.js';
import type {
  AdaptivePoolAttrs,
  AvgPoolAttrs,
  ConcatAttrs,
  ConvAttrs,
  ConvTransposeAttrs,
  DropoutAttrs,
  MatmulAttrs,
  MaxPoolAttrs,
  PadAttrs,
  PermuteAttrs,
  ReduceAttrs,
  SliceAttrs,
  SoftmaxAttrs,
  UnaryOpName,
  UpsampleAttrs,
} from './ops/index.js';

type Grads = readonly (Value | undefined)[];

function input(node: Node, slot: number): Value {
  return node.inputs[slot]!;
}

function one(values: Value[]): Value {
  return values[0]!;
}

/** Sum of dy over every axis but the channel axis 1: the gradient of a per-channel bias. */
function channelBiasGrad(context: VjpContext, dy: Value): Value {
  const axes = dy.shape.map((_, axis) => axis).filter((axis) => axis !== 1);
  return one(context.emit('sum', [dy], { axes, keepDims: false }));
}

// ---- convolution ---------------------------------------------------------------------------

registerVjp('conv', (context, node, [dy]) => {
  const attrs = node.attrs as ConvAttrs;
  const [x, weight] = [input(node, 0), input(node, 1)];
  const dx = one(context.emit('convInputGrad', [dy!, weight], { ...attrs, inputShape: x.shape }));
  // One node gives the weight and bias gradients, so its kernel can read dy once for both.
  const bias = node.inputs.length === 3;
  const grads = context.emit('convWeightGrad', [x, dy!], {
    ...attrs,
    weightShape: weight.shape,
    bias,
  });
  return [dx, ...grads];
});

registerVjp('convTranspose', (context, node, [dy]) => {
  const { outputPadding: _unused, ...attrs } = node.attrs as ConvTransposeAttrs;
  const [x, weight] = [input(node, 0), input(node, 1)];
  // A transposed convolution's input gradient is the convolution of dy with the same weight,
  // and its weight gradient is the convolution's weight gradient with x and dy swapped.
  const dx = one(context.emit('conv', [dy!, weight], attrs));
  const dw = one(context.emit('convWeightGrad', [dy!, x], { ...attrs, weightShape: weight.shape }));
  return node.inputs.length === 3 ? [dx, dw, channelBiasGrad(context, dy!)] : [dx, dw];
});

// ---- dense products ------------------------------------------------------------------------

registerVjp('linear', (context, node, [dy]) => {
  const [x, weight] = [input(node, 0), input(node, 1)];
  const [outFeatures, inFeatures] = [weight.shape[0]!, weight.shape[1]!];
  const rows = numElements(x.shape) / inFeatures;
  const dy2 = one(context.emit('reshape', [dy!], { shape: [rows, outFeatures] }));
  const x2 = one(context.emit('reshape', [x], { shape: [rows, inFeatures] }));
  const dx2 = one(context.emit('matmul', [dy2, weight], { transposeA: false, transposeB: false }));
  const dx = one(context.emit('reshape', [dx2], { shape: [...x.shape] }));
  const dw = one(context.emit('matmul', [dy2, x2], { transposeA: true, transposeB: false }));
  if (node.inputs.length === 2) return [dx, dw];
  return [dx, dw, one(context.emit('sum', [dy2], { axes: [0], keepDims: false }))];
});

registerVjp('matmul', (context, node, [dy]) => {
  const { transposeA, transposeB } = node.attrs as MatmulAttrs;
  const [a, b] = [input(node, 0), input(node, 1)];
  const matmul = (left: Value, right: Value, ta: boolean, tb: boolean) =>
    one(context.emit('matmul', [left, right], { transposeA: ta, transposeB: tb }));
  // C = op(A) op(B); the stored layouts decide which products give dA and dB.
  const da = transposeA ? matmul(b, dy!, transposeB, true) : matmul(dy!, b, false, !transposeB);
  const db = transposeB ? matmul(dy!, a, true, transposeA) : matmul(a, dy!, !transposeA, false);
  return [context.sumToShape(da, a.shape), context.sumToShape(db, b.shape)];
});

// ---- element-wise --------------------------------------------------------------------------

registerVjp('add', (context, node, [dy]) => [
  context.sumToShape(dy!, input(node, 0).shape),
  context.sumToShape(dy!, input(node, 1).shape),
]);

registerVjp('sub', (context, node, [dy]) => {
  const negated = one(context.emit('neg', [dy!], {}));
  return [
    context.sumToShape(dy!, input(node, 0).shape),
    context.sumToShape(negated, input(node, 1).shape),
  ];
});

registerVjp('mul', (context, node, [dy]) => {
  const [a, b] = [input(node, 0), input(node, 1)];
  const da = one(context.emit('mul', [dy!, b], {}));
  const db = one(context.emit('mul', [dy!, a], {}));
  return [context.sumToShape(da, a.shape), context.sumToShape(db, b.shape)];
});

registerVjp('div', (context, node, [dy]) => {
  const [a, b] = [input(node, 0), input(node, 1)];
  const y = node.outputs[0]!;
  const da = one(context.emit('div', [dy!, b], {}));
  // d(a / b)/db = -y / b.
  const yOverB = one(context.emit('div', [y, b], {}));
  const db = one(context.emit('neg', [one(context.emit('mul', [dy!, yOverB], {}))], {}));
  return [context.sumToShape(da, a.shape), context.sumToShape(db, b.shape)];
});

registerVjp('scale', (context, node, [dy]) => [
  one(context.emit('scale', [dy!], node.attrs as { factor: number })),
]);

const UNARY_OPS: UnaryOpName[] = [
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
for (const op of UNARY_OPS) {
  registerVjp(op, (context, node, [dy]) => [
    one(
      context.emit('unaryGrad', [dy!, input(node, 0), node.outputs[0]!], {
        op,
        attrs: node.attrs as UnaryAttrs,
      }),
    ),
  ]);
}

registerVjp('prelu', (context, node, [dy]) =>
  context.emit('preluGrad', [dy!, input(node, 0), input(node, 1)], {}),
);

// ---- shape ---------------------------------------------------------------------------------

registerVjp('reshape', (context, node, [dy]) => [
  one(context.emit('reshape', [dy!], { shape: [...input(node, 0).shape] })),
]);

registerVjp('permute', (context, node, [dy]) => {
  const { axes } = node.attrs as PermuteAttrs;
  const inverse = new Array<number>(axes.length);
  axes.forEach((axis, position) => (inverse[axis] = position));
  return [one(context.emit('permute', [dy!], { axes: inverse }))];
});

registerVjp('broadcastTo', (context, node, [dy]) => [
  context.sumToShape(dy!, input(node, 0).shape),
]);

registerVjp('concat', (context, node, [dy]) => {
  const { axis } = node.attrs as ConcatAttrs;
  let offset = 0;
  return node.inputs.map((part) => {
    const begin = dy!.shape.map((_, a) => (a === axis ? offset : 0));
    const end = dy!.shape.map((size, a) => (a === axis ? offset + part.shape[axis]! : size));
    offset += part.shape[axis]!;
    const step = dy!.shape.map(() => 1);
    return one(context.emit('slice', [dy!], { begin, end, step }));
  });
});

registerVjp('slice', (context, node, [dy]) => [
  one(
    context.emit('sliceGrad', [dy!], {
      ...(node.attrs as SliceAttrs),
      inputShape: input(node, 0).shape,
    }),
  ),
]);

registerVjp('pad', (context, node, [dy]) => [
  one(
    context.emit('padGrad', [dy!], {
      ...(node.attrs as PadAttrs),
      inputShape: input(node, 0).shape,
    }),
  ),
]);

// ---- pooling and resampling ----------------------------------------------------------------

registerVjp('maxPool', (context, node, [dy]) => [
  one(context.emit('maxPoolGrad', [dy!, input(node, 0)], node.attrs as MaxPoolAttrs)),
]);

registerVjp('avgPool', (context, node, [dy]) => [
  one(
    context.emit('avgPoolGrad', [dy!], {
      ...(node.attrs as AvgPoolAttrs),
      inputShape: input(node, 0).shape,
    }),
  ),
]);

registerVjp('adaptiveAvgPool', (context, node, [dy]) => [
  one(
    context.emit('adaptiveAvgPoolGrad', [dy!], {
      ...(node.attrs as AdaptivePoolAttrs),
      inputShape: input(node, 0).shape,
    }),
  ),
]);

registerVjp('adaptiveMaxPool', (context, node, [dy]) => [
  one(context.emit('adaptiveMaxPoolGrad', [dy!, input(node, 0)], node.attrs as AdaptivePoolAttrs)),
]);

registerVjp('upsample', (context, node, [dy]) => [
  one(
    context.emit('upsampleGrad', [dy!], {
      ...(node.attrs as UpsampleAttrs),
      inputShape: input(node, 0).shape,
    }),
  ),
]);

// ---- normalisation and dropout -------------------------------------------------------------

/** Norm rules: gradients for x and, when affine, weight and bias; none for running stats. */
function normRule(op: 'batchNormGrad' | 'instanceNormGrad' | 'groupNormGrad' | 'layerNormGrad') {
  return (context: VjpContext, node: Node, [dy]: Grads) => {
    const affine = (node.attrs as { affine: boolean }).affine;
    const inputs = affine ? [dy!, input(node, 0), input(node, 1)] : [dy!, input(node, 0)];
    const grads: (Value | undefined)[] = context.emit(op, inputs, node.attrs as never);
    while (grads.length < node.inputs.length) grads.push(undefined);
    return grads;
  };
}

registerVjp('batchNorm', normRule('batchNormGrad'));
registerVjp('instanceNorm', normRule('instanceNormGrad'));
registerVjp('groupNorm', normRule('groupNormGrad'));
registerVjp('layerNorm', normRule('layerNormGrad'));

registerVjp('dropout', (context, node, [dy]) => [
  one(context.emit('dropoutGrad', [dy!], { ...(node.attrs as DropoutAttrs), stream: node.id })),
]);

// ---- softmax and reductions ----------------------------------------------------------------

registerVjp('softmax', (context, node, [dy]) => [
  one(context.emit('softmaxGrad', [dy!, node.outputs[0]!], node.attrs as SoftmaxAttrs)),
]);

registerVjp('logSoftmax', (context, node, [dy]) => [
  one(context.emit('logSoftmaxGrad', [dy!, node.outputs[0]!], node.attrs as SoftmaxAttrs)),
]);

/** dy of a reduction broadcast back over the reduced axes of `shape`. */
function expandReduced(context: VjpContext, dy: Value, shape: Shape, attrs: ReduceAttrs): Value {
  const kept = shape.map((size, axis) => (attrs.axes.includes(axis) ? 1 : size));
  const reshaped = one(context.emit('reshape', [dy], { shape: kept }));
  return one(context.emit('broadcastTo', [reshaped], { shape: [...shape] }));
}

registerVjp('sum', (context, node, [dy]) => [
  expandReduced(context, dy!, input(node, 0).shape, node.attrs as ReduceAttrs),
]);

registerVjp('mean', (context, node, [dy]) => {
  const x = input(node, 0);
  const count = numElements(x.shape) / numElements(node.outputs[0]!.shape);
  const expanded = expandReduced(context, dy!, x.shape, node.attrs as ReduceAttrs);
  return [one(context.emit('scale', [expanded], { factor: 1 / count }))];
});

registerVjp('max', (context, node, [dy]) => [
  one(
    context.emit(
      'maxReduceGrad',
      [dy!, input(node, 0), node.outputs[0]!],
      node.attrs as ReduceAttrs,
    ),
  ),
]);
