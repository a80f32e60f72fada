// Lowerings of the element-wise ops, views, reductions, softmax and their gradients.

import type { GradOpAttrs } from '../graph/autodiff-ops.js';
import { numElements, type Node, type Shape } from '../graph/ir.js';
import type { DropoutAttrs, ReduceAttrs, SoftmaxAttrs } from '../graph/ops/index.js';
import { planBinary, type BinaryOp } from './binary.js';
import { planDropout, SEED_BYTES } from './dropout.js';
import {
  planElementwise,
  planUnary,
  planUnaryBackward,
  planUnaryBackwardInPlace,
} from './elementwise.js';
import {
  registerLowering,
  value,
  type LowerContext,
  type LoweredDispatch,
  type Operand,
} from './lower.js';
import type { KernelPlan } from './plan.js';
import { planSoftmax, planSoftmaxBackward, softmaxAxis } from './softmax.js';
import { lowerChannelSum } from './split-conv.js';
import { broadcastDispatches, lowerSplitReduce } from './split-reduce.js';
import { describeOperand, splitUnits, unitDispatches, windowOf } from './split.js';
import { unarySaves, type UnaryOp, type UnaryOpName } from './unary-ops.js';

/**
 * Lowers an element-wise op whose operands all have `shape`: one dispatch, or one per range
 * of elements when a tensor exceeds the binding limit. `plan` gets the shape of its range.
 */
function elementwise(
  context: LowerContext,
  shape: Shape,
  operands: [Operand, string][],
  plan: (shape: Shape) => KernelPlan,
): LoweredDispatch[] {
  const elements = numElements(shape);
  const units = operands.map(([operand, role]) => ({
    operand,
    label: describeOperand(role, operand),
    elementsPerUnit: 1,
  }));
  return unitDispatches(elements, units, context.limits, 'element', (count) =>
    plan(count === elements ? shape : [count]),
  );
}

/** Converts an IR unary op name and its attributes into the kernels' description. */
function unaryOp(op: string, attrs: Readonly<Record<string, unknown>>): UnaryOp {
  return { ...(attrs as Omit<UnaryOp, 'op'>), op: op as UnaryOpName };
}

const UNARY: UnaryOpName[] = [
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
  'scale',
];

for (const op of UNARY) {
  registerLowering(op, (node, context) => {
    const x = node.inputs[0]!;
    const unary = unaryOp(op, node.attrs as Record<string, unknown>);
    const operands: [Operand, string][] = [
      [value(x), 'input'],
      [value(node.outputs[0]!), 'output'],
    ];
    return elementwise(context, x.shape, operands, (shape) =>
      planUnary([unary], shape, context.limits),
    );
  });
}

registerLowering('unaryGrad', (node, context) => {
  const [dy, x, y] = node.inputs;
  const attrs = node.attrs as GradOpAttrs['unaryGrad'];
  const op = unaryOp(attrs.op, attrs.attrs);
  const plan = (shape: Shape) => planUnaryBackward(op, shape, context.limits);
  const dx: [Operand, string] = [value(node.outputs[0]!), 'input gradient'];
  const gradient: [Operand, string] = [value(dy!), 'output gradient'];
  const saves = unarySaves(op);
  // When fusion removed the input, the kernel reads the output instead. fuse.ts fuses only
  // activations whose derivative is the same from either, because it depends on the sign.
  const saved = saves === 'output' || !context.materialized(x!) ? y! : x!;
  const operands: [Operand, string][] =
    saves === 'none' ? [gradient, dx] : [[value(saved), 'saved value'], gradient, dx];
  // Each dispatch may instead overwrite dy with dx, which saves a tensor of x's size.
  return elementwise(context, x!.shape, operands, plan).map((dispatch) => {
    const window = dispatch.operands.at(-1)!;
    const count = 'window' in window && window.window ? window.window.elements : undefined;
    const shape = count === undefined ? x!.shape : [count];
    const inPlace = planUnaryBackwardInPlace(op, shape, context.limits);
    const source = operands.length - 2;
    return { ...dispatch, inPlace: { plan: inPlace, source, output: source + 1 } };
  });
});

for (const op of ['add', 'sub', 'mul', 'div'] as BinaryOp[]) {
  registerLowering(op, (node, context) => {
    const [a, b] = node.inputs;
    const y = node.outputs[0]!;
    const operands: [Operand, string][] = [
      [value(a!), 'first operand'],
      [value(b!), 'second operand'],
      [value(y), 'output'],
    ];
    if (sameShape(a!.shape, b!.shape)) {
      return elementwise(context, y.shape, operands, (shape) =>
        planBinary(op, shape, shape, context.limits),
      );
    }
    const shaped = operands.map(([operand, role], k) => ({
      operand,
      role,
      shape: [a!, b!, y][k]!.shape,
    }));
    return broadcastDispatches(context, shaped, ([aShape, bShape]) =>
      planBinary(op, aShape!, bShape!, context.limits),
    );
  });
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((size, axis) => size === b[axis]);
}

registerLowering('prelu', (node, context) => {
  const [x, weight] = node.inputs;
  // The weight broadcasts over the channel axis 1, not over the trailing axis.
  const weightShape = [weight!.shape[0]!, ...x!.shape.slice(2).map(() => 1)];
  const plan = planBinary('prelu', x!.shape, weightShape, context.limits);
  return [{ plan, operands: [value(x!), value(weight!), value(node.outputs[0]!)] }];
});

registerLowering('broadcastTo', (node, context) => {
  const [x] = node.inputs;
  const y = node.outputs[0]!;
  // Sum and mean have this gradient, so it splits with them when y exceeds the binding limit.
  const operands = [
    { operand: value(x!), role: 'input', shape: x!.shape },
    { operand: value(y), role: 'output', shape: y.shape },
  ];
  return broadcastDispatches(context, operands, ([xShape, yShape]) =>
    planElementwise('broadcast_to', [xShape!], yShape!, 'x0', context.limits),
  );
});

registerLowering('reshape', (node, context) => {
  context.alias(node.outputs[0]!, node.inputs[0]!);
  return [];
});

function lowerReduce(op: 'sum' | 'mean' | 'max') {
  return (node: Node, context: LowerContext): LoweredDispatch[] => {
    const x = node.inputs[0]!;
    const { axes } = node.attrs as ReduceAttrs;
    const y = node.outputs[0]!;
    if (axes.length === 0 || numElements(x.shape) === numElements(y.shape)) {
      // Reducing over nothing (or unit axes only) moves no data.
      context.alias(y, x);
      return [];
    }
    const block = keptBlock(x.shape, axes);
    if (op === 'sum' && block) {
      // Per-channel sums (bias gradients) have a dedicated two-pass kernel.
      return lowerChannelSum(context, block, value(x), value(y));
    }
    return lowerSplitReduce(context, x, y, axes, op);
  };
}

/**
 * Views `shape` as [outer, channels, inner] when the kept axes are one contiguous block, so
 * the reduction is a per-channel sum; undefined otherwise or when every axis is reduced.
 */
function keptBlock(shape: Shape, axes: readonly number[]) {
  const kept = shape.map((_, axis) => axis).filter((axis) => !axes.includes(axis));
  if (kept.length === 0 || kept.at(-1)! - kept[0]! !== kept.length - 1) return undefined;
  return {
    outer: numElements(shape.slice(0, kept[0])),
    channels: numElements(shape.slice(kept[0], kept.at(-1)! + 1)),
    inner: numElements(shape.slice(kept.at(-1)! + 1)),
  };
}

registerLowering('sum', lowerReduce('sum'));
registerLowering('mean', lowerReduce('mean'));
registerLowering('max', lowerReduce('max'));

/**
 * Lowers a softmax kernel over `axis` of `shape`: one dispatch, or one per run of the units
 * before the axis (samples for axis 1) when a tensor exceeds the binding limit. Each unit
 * normalises on its own, so a run is planned as [units, ...shape from the axis on] over axis 1
 * and computes the same values as unsplit.
 */
function softmaxWise(
  context: LowerContext,
  shape: Shape,
  axis: number,
  operands: [Operand, string][],
  plan: (shape: Shape, axis: number) => KernelPlan,
): LoweredDispatch[] {
  const resolved = softmaxAxis(shape, axis);
  const units = numElements(shape.slice(0, resolved));
  const elementsPerUnit = numElements(shape.slice(resolved));
  const split = operands.map(([operand, role]) => ({
    operand,
    label: describeOperand(role, operand),
    elementsPerUnit,
  }));
  const unit = resolved === 1 ? 'sample' : `slice along axis ${resolved}`;
  return unitDispatches(units, split, context.limits, unit, (count) =>
    count === units ? plan(shape, axis) : plan([count, ...shape.slice(resolved)], 1),
  );
}

for (const log of [false, true]) {
  registerLowering(log ? 'logSoftmax' : 'softmax', (node, context) => {
    const x = node.inputs[0]!;
    const { axis } = node.attrs as SoftmaxAttrs;
    const operands: [Operand, string][] = [
      [value(x), 'input'],
      [value(node.outputs[0]!), 'output'],
    ];
    return softmaxWise(context, x.shape, axis, operands, (shape, axis) =>
      planSoftmax({ shape, axis, log }, context.limits),
    );
  });
  registerLowering(log ? 'logSoftmaxGrad' : 'softmaxGrad', (node, context) => {
    const [dy, y] = node.inputs;
    const { axis } = node.attrs as SoftmaxAttrs;
    const operands: [Operand, string][] = [
      [value(y!), 'output'],
      [value(dy!), 'output gradient'],
      [value(node.outputs[0]!), 'input gradient'],
    ];
    return softmaxWise(context, y!.shape, axis, operands, (shape, axis) =>
      planSoftmaxBackward({ shape, axis, log }, context.limits),
    );
  });
}

/**
 * Lowers dropout (or its gradient) of `shape`: one dispatch, or one per run of elements when
 * a tensor exceeds the binding limit. Each run's kernel draws its mask from the index of its
 * first element, so the split mask is the unsplit one. Runs cannot share a kernel for that
 * reason, but a tensor over the limit has few runs.
 */
function dropoutWise(
  context: LowerContext,
  shape: Shape,
  p: number,
  operands: [Operand, string][],
  seed: Operand,
): LoweredDispatch[] {
  const elements = numElements(shape);
  const split = operands.map(([operand, role]) => ({
    label: describeOperand(role, operand),
    elementsPerUnit: 1,
  }));
  const ranges = splitUnits(elements, split, context.limits, 'element');
  if (ranges.length === 1) {
    const plan = planDropout(shape, p, context.limits);
    return [{ plan, operands: [...operands.map(([operand]) => operand), seed] }];
  }
  return ranges.map(({ start, count }) => ({
    plan: planDropout([count], p, context.limits, start),
    operands: [...operands.map(([operand]) => windowOf(operand, start, count)), seed],
  }));
}

/** Key of the seed uniform of the dropout node with id `stream`; the host writes it per step. */
export const dropoutSeedKey = (stream: number) => `dropout:${stream}`;

registerLowering('dropout', (node, context) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const { p } = node.attrs as DropoutAttrs;
  if (!context.training || p === 0) {
    // Dropout is the identity in eval mode.
    context.alias(y, x);
    return [];
  }
  const seed: Operand = { kind: 'uniform', key: dropoutSeedKey(node.id), bytes: SEED_BYTES };
  const operands: [Operand, string][] = [
    [value(x), 'input'],
    [value(y), 'output'],
  ];
  return dropoutWise(context, x.shape, p, operands, seed);
});

registerLowering('dropoutGrad', (node, context) => {
  const dy = node.inputs[0]!;
  const { p, stream } = node.attrs as GradOpAttrs['dropoutGrad'];
  // The same kernel with the forward's seed applies the same mask and scale to dy.
  const seed: Operand = { kind: 'uniform', key: dropoutSeedKey(stream), bytes: SEED_BYTES };
  const operands: [Operand, string][] = [
    [value(dy), 'output gradient'],
    [value(node.outputs[0]!), 'input gradient'],
  ];
  return dropoutWise(context, dy.shape, p, operands, seed);
});
