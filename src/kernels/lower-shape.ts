// Lowerings of the data-movement ops (permute, slice, concat, pad) and their gradients, and
// of the remaining element-wise gradients: prelu's and max reduction's.

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
import { registerLowering, value, type LowerContext, type LoweredDispatch } from './lower.js';
import { planReduceBackward } from './reduce.js';

registerLowering('permute', (node, context) => {
  const x = node.inputs[0]!;
  const { axes } = node.attrs as PermuteAttrs;
  const plan = planPermute(x.shape, axes, context.limits);
  return [{ plan, operands: [value(x), value(node.outputs[0]!)] }];
});

function sliceGeometry(shape: readonly number[], attrs: SliceAttrs) {
  return { shape, starts: attrs.begin, ends: attrs.end, steps: attrs.step };
}

registerLowering('slice', (node, context) => {
  const x = node.inputs[0]!;
  const plan = planSlice(sliceGeometry(x.shape, node.attrs as SliceAttrs), context.limits);
  return [{ plan, operands: [value(x), value(node.outputs[0]!)] }];
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
    const plan = planPad(
      { shape: node.inputs[0]!.shape, padding, mode: 'constant', value: 0 },
      context.limits,
    );
    return [{ plan, operands: [dy, dx] }];
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
  const shapes = node.inputs.map((input) => input.shape);
  const y = value(node.outputs[0]!);
  return planConcat(shapes, axis, context.limits).map((plan, k) => ({
    plan,
    operands: [value(node.inputs[k]!), y],
  }));
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

registerLowering('pad', (node, context) => {
  const x = node.inputs[0]!;
  const plan = planPad(padGeometry(node, x.shape, node.attrs as PadAttrs), context.limits);
  return [{ plan, operands: [value(x), value(node.outputs[0]!)] }];
});

registerLowering('padGrad', (node, context) => {
  const { inputShape, ...attrs } = node.attrs as GradOpAttrs['padGrad'];
  const plan = planPadBackward(padGeometry(node, inputShape, attrs), context.limits);
  return [{ plan, operands: [value(node.inputs[0]!), value(node.outputs[0]!)] }];
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
  const plan = planReduceBackward({ shape: x!.shape, axes, op: 'max' }, context.limits);
  return [{ plan, operands: [value(x!), value(y!), value(dy!), value(node.outputs[0]!)] }];
});
