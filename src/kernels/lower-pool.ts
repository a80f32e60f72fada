// Lowerings of pooling, upsampling and the cross-entropy loss. The gradient kernels of max
// pooling and of the loss read a tensor their forward kernel saved: the argmax, the totals.
// Pooling and upsampling treat each (n, c) plane alone, so over the binding limit they run
// as one dispatch per run of planes.

import type { GradOpAttrs } from '../graph/autodiff-ops.js';
import { numElements, type Shape, type Value } from '../graph/ir.js';
import type {
  AdaptivePoolAttrs,
  AvgPoolAttrs,
  MaxPoolAttrs,
  UpsampleAttrs,
} from '../graph/ops/index.js';
import type { CrossEntropyAttrs } from '../losses/ops.js';
import {
  planCrossEntropyBackward,
  planCrossEntropyRows,
  planCrossEntropyTotal,
} from './cross-entropy.js';
import {
  registerLowering,
  UNUSED,
  value,
  type LowerContext,
  type LoweredDispatch,
  type Operand,
} from './lower.js';
import {
  planAdaptiveAvgPool,
  planAdaptiveAvgPoolBackward,
  planAdaptiveMaxPool,
  planAdaptiveMaxPoolBackward,
  planAvgPool,
  planAvgPoolBackward,
  planMaxPool,
  planMaxPoolBackward,
} from './pool.js';
import type { KernelPlan } from './plan.js';
import { describeOperand, unitDispatches } from './split.js';
import { planUpsample, planUpsampleBackward } from './upsample.js';

/** An operand of a plane-wise op, its role in errors, and whether it has input-sized planes. */
type PlaneOperand = [operand: Operand, role: string, side: 'input' | 'output'];

/**
 * Lowers an op over [N, C, ...spatial] that reads and writes each (n, c) plane alone. Runs of
 * planes are planned as [planes, 1, ...spatial] inputs.
 */
function planeWise(
  context: LowerContext,
  inputShape: Shape,
  outputShape: Shape,
  operands: PlaneOperand[],
  plan: (inputShape: Shape) => KernelPlan,
) {
  const planes = inputShape[0]! * inputShape[1]!;
  const perPlane = {
    input: numElements(inputShape.slice(2)),
    output: numElements(outputShape.slice(2)),
  };
  const units = operands.map(([operand, role, side]) => ({
    operand,
    label: describeOperand(role, operand),
    elementsPerUnit: perPlane[side],
  }));
  return unitDispatches(planes, units, context.limits, 'plane', (count) =>
    plan(count === planes ? inputShape : [count, 1, ...inputShape.slice(2)]),
  );
}

/** The argmax a max pooling of `input` saves for its gradient (one u32 per output). */
function argmax(
  context: LowerContext,
  input: Value,
  attrs: MaxPoolAttrs,
  outputs: number,
): Operand {
  return context.saved(`maxPool:${input.id}:${JSON.stringify(attrs)}`, outputs);
}

registerLowering('maxPool', (node, context) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const attrs = node.attrs as MaxPoolAttrs;
  const saved = argmax(context, x, attrs, numElements(y.shape));
  const operands: PlaneOperand[] = [
    [value(x), 'input', 'input'],
    [value(y), 'output', 'output'],
    [saved, 'argmax', 'output'],
  ];
  // A relu gradient folded into this pooling (fuse-pool.ts) is masked through the argmax.
  const reluMask = context.fusedActivation(node)?.activation === 'relu';
  return planeWise(context, x.shape, y.shape, operands, (inputShape) =>
    planMaxPool({ inputShape, ...attrs }, context.limits, reluMask),
  );
});

registerLowering('maxPoolGrad', (node, context) => {
  const [dy, x] = node.inputs;
  const attrs = node.attrs as MaxPoolAttrs;
  const saved = argmax(context, x!, attrs, numElements(dy!.shape));
  const operands: PlaneOperand[] = [
    [value(dy!), 'output gradient', 'output'],
    [saved, 'argmax', 'output'],
    [value(node.outputs[0]!), 'input gradient', 'input'],
  ];
  return planeWise(context, x!.shape, dy!.shape, operands, (inputShape) =>
    planMaxPoolBackward({ inputShape, ...attrs }, context.limits),
  );
});

registerLowering('avgPool', (node, context) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const attrs = node.attrs as AvgPoolAttrs;
  const operands: PlaneOperand[] = [
    [value(x), 'input', 'input'],
    [value(y), 'output', 'output'],
  ];
  return planeWise(context, x.shape, y.shape, operands, (inputShape) =>
    planAvgPool({ inputShape, ...attrs }, context.limits),
  );
});

registerLowering('avgPoolGrad', (node, context) => {
  const { inputShape, ...attrs } = node.attrs as GradOpAttrs['avgPoolGrad'];
  const dy = node.inputs[0]!;
  const operands: PlaneOperand[] = [
    [value(dy), 'output gradient', 'output'],
    [value(node.outputs[0]!), 'input gradient', 'input'],
  ];
  return planeWise(context, inputShape, dy.shape, operands, (shape) =>
    planAvgPoolBackward({ inputShape: shape, ...attrs }, context.limits),
  );
});

registerLowering('adaptiveAvgPool', (node, context) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const { outputSize } = node.attrs as AdaptivePoolAttrs;
  const operands: PlaneOperand[] = [
    [value(x), 'input', 'input'],
    [value(y), 'output', 'output'],
  ];
  return planeWise(context, x.shape, y.shape, operands, (inputShape) =>
    planAdaptiveAvgPool({ inputShape, outputSize }, context.limits),
  );
});

registerLowering('adaptiveAvgPoolGrad', (node, context) => {
  const { inputShape, outputSize } = node.attrs as GradOpAttrs['adaptiveAvgPoolGrad'];
  const dy = node.inputs[0]!;
  const operands: PlaneOperand[] = [
    [value(dy), 'output gradient', 'output'],
    [value(node.outputs[0]!), 'input gradient', 'input'],
  ];
  return planeWise(context, inputShape, dy.shape, operands, (shape) =>
    planAdaptiveAvgPoolBackward({ inputShape: shape, outputSize }, context.limits),
  );
});

function adaptiveArgmax(
  context: LowerContext,
  input: Value,
  attrs: AdaptivePoolAttrs,
  outputs: number,
) {
  return context.saved(`adaptiveMaxPool:${input.id}:${JSON.stringify(attrs)}`, outputs);
}

registerLowering('adaptiveMaxPool', (node, context) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const attrs = node.attrs as AdaptivePoolAttrs;
  const saved = adaptiveArgmax(context, x, attrs, numElements(y.shape));
  const operands: PlaneOperand[] = [
    [value(x), 'input', 'input'],
    [value(y), 'output', 'output'],
    [saved, 'argmax', 'output'],
  ];
  return planeWise(context, x.shape, y.shape, operands, (inputShape) =>
    planAdaptiveMaxPool({ inputShape, outputSize: attrs.outputSize }, context.limits),
  );
});

registerLowering('adaptiveMaxPoolGrad', (node, context) => {
  const [dy, x] = node.inputs;
  const attrs = node.attrs as AdaptivePoolAttrs;
  const saved = adaptiveArgmax(context, x!, attrs, numElements(dy!.shape));
  const operands: PlaneOperand[] = [
    [value(dy!), 'output gradient', 'output'],
    [saved, 'argmax', 'output'],
    [value(node.outputs[0]!), 'input gradient', 'input'],
  ];
  return planeWise(context, x!.shape, dy!.shape, operands, (inputShape) =>
    planAdaptiveMaxPoolBackward({ inputShape, outputSize: attrs.outputSize }, context.limits),
  );
});

/** Class weights: the node's weight input, or a constant of ones. */
function classWeights(context: LowerContext, classes: number, weight: Value | undefined): Operand {
  if (weight) return value(weight);
  return context.constant(`ones:${classes}`, new Float32Array(classes).fill(1));
}

/** An operand of a sample-wise loss kernel, its role in errors and its elements per sample. */
type SampleOperand = [operand: Operand, role: string, elementsPerSample: number];

/**
 * Lowers a cross-entropy kernel that reads and writes each sample's rows alone: one dispatch,
 * or one per run of samples when a tensor exceeds the binding limit. Runs are planned as
 * [samples, C, ...spatial] inputs, so every row computes the same as unsplit.
 */
function sampleWise(
  context: LowerContext,
  inputShape: Shape,
  operands: SampleOperand[],
  plan: (inputShape: Shape) => KernelPlan,
): LoweredDispatch[] {
  const units = operands.map(([operand, role, elementsPerUnit]) => ({
    operand,
    label: describeOperand(role, operand),
    elementsPerUnit,
  }));
  const [batch, ...rest] = inputShape;
  return unitDispatches(batch!, units, context.limits, 'sample', (count) => plan([count, ...rest]));
}

registerLowering('crossEntropy', (node, context) => {
  const [scores, targets, weight] = node.inputs;
  const loss = node.outputs[0]!;
  const attrs = node.attrs as CrossEntropyAttrs;
  const geometry = { inputShape: scores!.shape, ...attrs };
  const [, classes, ...spatial] = scores!.shape;
  const voxels = numElements(spatial);
  const rowCount = scores!.shape[0]! * voxels;
  const weights = classWeights(context, classes!, weight);
  const rowWeights = context.scratch(rowCount);
  // Reduction 'none' writes the row losses to the output.
  const none = attrs.reduction === 'none';
  const rowLosses = none ? value(loss) : context.scratch(rowCount);
  const operands: SampleOperand[] = [
    [value(scores!), 'input', classes! * voxels],
    [value(targets!), 'target', voxels],
    [weights, 'class weights', 0],
    [rowLosses, 'row losses', voxels],
    [rowWeights, 'row weights', voxels],
  ];
  const rows = sampleWise(context, scores!.shape, operands, (inputShape) =>
    planCrossEntropyRows({ ...geometry, inputShape }, context.limits),
  );
  // The totals kernel binds every row at once, so it cannot split.
  const total = planCrossEntropyTotal(geometry, context.limits);
  if (!total) return rows;
  // The totals kernel writes [loss, total weight]; the gradient of a mean reads both.
  context.reserve(loss, 2);
  return [...rows, { plan: total, operands: [rowLosses, rowWeights, value(loss)] }];
});

registerLowering('crossEntropyGrad', (node, context) => {
  const [dy, scores, targets, loss, weight] = node.inputs;
  const attrs = node.attrs as CrossEntropyAttrs;
  const [, classes, ...spatial] = scores!.shape;
  const voxels = numElements(spatial);
  const weights = classWeights(context, classes!, weight);
  const none = attrs.reduction === 'none';
  // Reductions 'sum' and 'mean' read one output gradient and the totals in every run.
  const operands: SampleOperand[] = [
    [value(scores!), 'input', classes! * voxels],
    [value(targets!), 'target', voxels],
    [weights, 'class weights', 0],
    [none ? UNUSED : value(loss!), 'totals', 0],
    [value(dy!), 'output gradient', none ? voxels : 0],
    [value(node.outputs[0]!), 'input gradient', classes! * voxels],
  ];
  return sampleWise(context, scores!.shape, operands, (inputShape) =>
    planCrossEntropyBackward({ ...attrs, inputShape }, context.limits),
  );
});

function upsampleGeometry(
  inputShape: readonly number[],
  outputShape: readonly number[],
  attrs: UpsampleAttrs,
) {
  return {
    inputShape,
    outputSize: outputShape.slice(2),
    mode: attrs.mode,
    alignCorners: attrs.alignCorners,
    scaleFactor: attrs.scale ?? undefined,
  };
}

registerLowering('upsample', (node, context) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const operands: PlaneOperand[] = [
    [value(x), 'input', 'input'],
    [value(y), 'output', 'output'],
  ];
  return planeWise(context, x.shape, y.shape, operands, (inputShape) =>
    planUpsample(
      upsampleGeometry(inputShape, y.shape, node.attrs as UpsampleAttrs),
      context.limits,
    ),
  );
});

registerLowering('upsampleGrad', (node, context) => {
  const dy = node.inputs[0]!;
  const { inputShape, ...attrs } = node.attrs as GradOpAttrs['upsampleGrad'];
  const operands: PlaneOperand[] = [
    [value(dy), 'output gradient', 'output'],
    [value(node.outputs[0]!), 'input gradient', 'input'],
  ];
  return planeWise(context, inputShape, dy.shape, operands, (shape) =>
    planUpsampleBackward(upsampleGeometry(shape, dy.shape, attrs), context.limits),
  );
});
