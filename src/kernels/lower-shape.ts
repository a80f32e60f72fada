// Lowerings of the data-movement ops (permute, slice, concat, pad) and their gradients, and
// of the remaining element-wise gradients: prelu's and max reduction's.
// Copies that keep axis 0 in place split by sample over the binding limit.

import { UserError } from '../errors.js';
import type { GradOpAttrs } from '../graph/autodiff-ops.js';
import { numElements, type Node } from '../graph/ir.js';
import type {
  ConcatAttrs,
  PadAttrs,
  PermuteAttrs,
  ReduceAttrs,
  SliceAttrs,
} from '../graph/ops/index.js';
import { planBinaryBackward } from './binary.js';
import {
  planConcat,
  planPad,
  planPadBackward,
  planPermute,
  planSlice,
  planSliceBackward,
  type PadMode,
} from './copy.js';
import { planFill } from './fill.js';
import {
  registerLowering,
  value,
  type LowerContext,
  type LoweredDispatch,
  type Operand,
} from './lower.js';
import type { KernelPlan } from './plan.js';
import { describeOperand, unitDispatches } from './split.js';
import { planReduceBackward, reducedShape } from './reduce.js';
import { broadcastDispatches } from './split-reduce.js';

type Shape = readonly number[];

/**
 * Lowers a copy that keeps axis 0 in place, so that each sample of the output reads only the
 * same sample of each input: one dispatch, or one per run of samples over the binding limit.
 * `plan` gets the operands' shapes with `count` samples. A copy that moves data across axis 0
 * is not split, and its planner rejects it over the limit.
 */
function sampleWise(
  context: LowerContext,
  operands: [Operand, string, Shape][],
  splittable: boolean,
  plan: (shapes: Shape[]) => KernelPlan,
): LoweredDispatch[] {
  const shapes = operands.map(([, , shape]) => shape);
  if (!splittable) return [{ plan: plan(shapes), operands: operands.map(([o]) => o) }];
  const batch = shapes[0]![0]!;
  const units = operands.map(([operand, role, shape]) => ({
    operand,
    label: describeOperand(role, operand),
    elementsPerUnit: numElements(shape.slice(1)),
  }));
  return unitDispatches(batch, units, context.limits, 'sample', (count) =>
    plan(count === batch ? shapes : shapes.map((shape) => [count, ...shape.slice(1)])),
  );
}

registerLowering('permute', (node, context) => {
  const x = node.inputs[0]!;
  const { axes } = node.attrs as PermuteAttrs;
  const operands: [Operand, string, Shape][] = [
    [value(x), 'input', x.shape],
    [value(node.outputs[0]!), 'output', node.outputs[0]!.shape],
  ];
  return sampleWise(context, operands, axes[0] === 0, ([shape]) =>
    planPermute(shape!, axes, context.limits),
  );
});

/** True when a slice keeps all of axis 0 in order. */
function keepsBatch(shape: Shape, attrs: SliceAttrs): boolean {
  return attrs.begin[0] === 0 && attrs.end[0] === shape[0] && attrs.step[0] === 1;
}

/** Returns the attributes of a slice that keeps axis 0, for `count` samples. */
function withBatch(attrs: SliceAttrs, count: number): SliceAttrs {
  return { ...attrs, end: [count, ...attrs.end.slice(1)] };
}

function sliceGeometry(shape: readonly number[], attrs: SliceAttrs) {
  return { shape, starts: attrs.begin, ends: attrs.end, steps: attrs.step };
}

registerLowering('slice', (node, context) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const attrs = node.attrs as SliceAttrs;
  const operands: [Operand, string, Shape][] = [
    [value(x), 'input', x.shape],
    [value(y), 'output', y.shape],
  ];
  return sampleWise(context, operands, keepsBatch(x.shape, attrs), ([shape]) =>
    planSlice(sliceGeometry(shape!, withBatch(attrs, shape![0]!)), context.limits),
  );
});

registerLowering('sliceGrad', (node, context) => {
  const { inputShape, ...attrs } = node.attrs as GradOpAttrs['sliceGrad'];
  const dy = value(node.inputs[0]!);
  const dx = value(node.outputs[0]!);
  if (attrs.step.every((step) => step === 1)) {
    // A unit-step slice's gradient is dy padded with zeros: one pass, no clearing.
    const padding = inputShape.map(
      (size, axis) => [attrs.begin[axis]!, size - attrs.end[axis]!] as const,
    );
    const operands: [Operand, string, Shape][] = [
      [dy, 'output gradient', node.inputs[0]!.shape],
      [dx, 'input gradient', inputShape],
    ];
    const splittable = padding[0]![0] === 0 && padding[0]![1] === 0;
    return sampleWise(context, operands, splittable, ([shape]) =>
      planPad({ shape: shape!, padding, mode: 'constant', value: 0 }, context.limits),
    );
  }
  // A strided slice's gradient scatters dy into dx, whose other elements must be zero.
  const clear = planFill(numElements(inputShape), 0, context.limits);
  const plan = planSliceBackward(sliceGeometry(inputShape, attrs), context.limits);
  return [
    { plan: clear, operands: [dx] },
    { plan, operands: [dy, dx] },
  ];
});

registerLowering('concat', (node, context) => {
  const { axis } = node.attrs as ConcatAttrs;
  const y = node.outputs[0]!;
  // Each input is copied into its part of y by a dispatch of its own.
  return node.inputs.flatMap((input, k) => {
    const operands: [Operand, string, Shape][] = [
      [value(input), `input ${k}`, input.shape],
      [value(y), 'output', y.shape],
    ];
    return sampleWise(context, operands, axis !== 0, ([shape]) => {
      const count = shape![0]!;
      const shapes = node.inputs.map((other) => [count, ...other.shape.slice(1)]);
      return planConcat(shapes, axis, context.limits)[k]!;
    });
  });
});

function padGeometry(node: Node, shape: readonly number[], attrs: PadAttrs) {
  if (attrs.mode === 'circular') {
    throw new UserError(
      `Circular padding (layer '${node.scope}') has no GPU kernel yet; use 'constant', ` +
        "'reflect' or 'replicate'.",
    );
  }
  return { shape, padding: attrs.padding, mode: attrs.mode as PadMode, value: attrs.value };
}

/** True when the padding adds elements on axis 0. */
function padsBatch(attrs: PadAttrs): boolean {
  const [before, after] = attrs.padding[0]!;
  return before !== 0 || after !== 0;
}

registerLowering('pad', (node, context) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const attrs = node.attrs as PadAttrs;
  const operands: [Operand, string, Shape][] = [
    [value(x), 'input', x.shape],
    [value(y), 'output', y.shape],
  ];
  return sampleWise(context, operands, !padsBatch(attrs), ([shape]) =>
    planPad(padGeometry(node, shape!, attrs), context.limits),
  );
});

registerLowering('padGrad', (node, context) => {
  const { inputShape, ...attrs } = node.attrs as GradOpAttrs['padGrad'];
  const dy = node.inputs[0]!;
  const operands: [Operand, string, Shape][] = [
    [value(dy), 'output gradient', dy.shape],
    [value(node.outputs[0]!), 'input gradient', inputShape],
  ];
  return sampleWise(context, operands, !padsBatch(attrs), ([, shape]) =>
    planPadBackward(padGeometry(node, shape!, attrs), context.limits),
  );
});

registerLowering('preluGrad', (node, context) => {
  const [dy, x, weight] = node.inputs;
  // The weight broadcasts over the channel axis 1, as in the forward lowering.
  const weightShape = [weight!.shape[0]!, ...x!.shape.slice(2).map(() => 1)];
  const operands = { a: value(x!), b: value(weight!), dy: value(dy!) };
  const dispatches: LoweredDispatch[] = [];
  for (const operand of [0, 1] as const) {
    const gradient = value(node.outputs[operand]!);
    const plan = planBinaryBackward('prelu', operand, x!.shape, weightShape, context.limits);
    const inputs = plan.inputs.map((name) => operands[name]);
    if (!plan.reduce) {
      dispatches.push({ plan: plan.elementwise, operands: [...inputs, gradient] });
      continue;
    }
    const scratch = context.scratch(plan.scratchElements);
    dispatches.push({ plan: plan.elementwise, operands: [...inputs, scratch] });
    dispatches.push({ plan: plan.reduce, operands: [scratch, gradient] });
  }
  return dispatches;
});

registerLowering('maxReduceGrad', (node, context: LowerContext) => {
  const [dy, x, y] = node.inputs;
  const { axes } = node.attrs as ReduceAttrs;
  // y and dy are read as x's shape with the reduced axes of size 1, which splits with x.
  const kept = reducedShape(x!.shape, axes, true);
  const operands = [
    { operand: value(x!), role: 'input', shape: x!.shape },
    { operand: value(y!), role: 'output', shape: kept },
    { operand: value(dy!), role: 'output gradient', shape: kept },
    { operand: value(node.outputs[0]!), role: 'input gradient', shape: x!.shape },
  ];
  return broadcastDispatches(context, operands, ([shape, keptShape]) => {
    const reduced = shape!.flatMap((size, axis) => (keptShape![axis] !== size ? [axis] : []));
    return planReduceBackward({ shape: shape!, axes: reduced, op: 'max' }, context.limits);
  });
});
