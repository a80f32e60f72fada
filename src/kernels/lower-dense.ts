// Lowerings of the dense ops: convolution, transposed convolution and their gradients,
// linear and batched matmul.

import { UserError } from '../errors.js';
import { numElements, type Node, type Shape, type Value } from '../graph/ir.js';
import type { ConvAttrs, ConvTransposeAttrs, MatmulAttrs } from '../graph/ops/index.js';
import type { GradOpAttrs } from '../graph/autodiff-ops.js';
import type { ConvGeometry } from './conv.js';
import {
  lowerConvForward,
  lowerConvInputGrad,
  lowerConvTranspose,
  lowerConvWeightGrad,
} from './split-conv.js';
import {
  registerLowering,
  UNUSED,
  value,
  type LowerContext,
  type LoweredDispatch,
} from './lower.js';
import { planMatmul } from './matmul.js';
import { lowerLinearRows, lowerMatmul2d } from './split-dense.js';
import type { Epilogue } from './plan.js';

/** The convolution whose input is `input` [N, C, ...] and weight `weight` [Cout, C/g, ...]. */
function convGeometry(input: Shape, weight: Shape, attrs: ConvAttrs): ConvGeometry {
  return {
    batch: input[0]!,
    inChannels: input[1]!,
    outChannels: weight[0]!,
    inputSize: input.slice(2),
    kernelSize: weight.slice(2),
    stride: attrs.stride,
    padding: attrs.padding,
    dilation: attrs.dilation,
    groups: attrs.groups,
  };
}

/**
 * The epilogue of a producer node, the value its kernel writes (fused or not), and the
 * operands bound after it when a norm or residual is folded in (see fuse.ts).
 */
function epilogue(node: Node, context: LowerContext, bias: Value | undefined) {
  const fused = context.fusedActivation(node);
  const settings: Epilogue = { bias: bias !== undefined };
  if (fused) {
    settings.activation = fused.activation;
    if (fused.parameter !== undefined) settings.activationParameter = fused.parameter;
    if (fused.norm !== undefined) settings.norm = fused.norm;
    if (fused.residual !== undefined) settings.residual = true;
  }
  const output = fused ? fused.node.outputs[0]! : node.outputs[0]!;
  return { settings, output, extra: fused?.operands ?? [] };
}

registerLowering('conv', (node, context) => {
  const [x, weight, bias] = node.inputs;
  const { settings, output, extra } = epilogue(node, context, bias);
  const geometry = convGeometry(x!.shape, weight!.shape, node.attrs as ConvAttrs);
  return lowerConvForward(context, geometry, output.shape.slice(2), settings, {
    x: value(x!),
    weight: value(weight!),
    bias: bias ? value(bias) : UNUSED,
    y: value(output),
    extra,
  });
});

registerLowering('convTranspose', (node, context) => {
  const [x, weight, bias] = node.inputs;
  const attrs = node.attrs as ConvTransposeAttrs;
  const { settings, output, extra } = epilogue(node, context, bias);
  const geometry = {
    ...convGeometry(x!.shape, weight!.shape, attrs),
    // A transposed weight is [inChannels, outChannels / groups, ...kernel].
    outChannels: weight!.shape[1]! * attrs.groups,
    outputPadding: attrs.outputPadding,
  };
  return lowerConvTranspose(context, geometry, output.shape.slice(2), settings, {
    x: value(x!),
    weight: value(weight!),
    bias: bias ? value(bias) : UNUSED,
    y: value(output),
    extra,
  });
});

registerLowering('convInputGrad', (node, context) => {
  const [dy, weight] = node.inputs;
  const attrs = node.attrs as GradOpAttrs['convInputGrad'];
  const geometry = convGeometry(attrs.inputShape, weight!.shape, attrs);
  const dx = value(node.outputs[0]!);
  return lowerConvInputGrad(context, geometry, dy!.shape.slice(2), value(dy!), value(weight!), dx);
});

registerLowering('convWeightGrad', (node, context) => {
  const [x, dy] = node.inputs;
  const attrs = node.attrs as GradOpAttrs['convWeightGrad'];
  const geometry = convGeometry(x!.shape, attrs.weightShape, attrs);
  const dw = value(node.outputs[0]!);
  const db = node.outputs[1] && value(node.outputs[1]);
  return lowerConvWeightGrad(context, geometry, dy!.shape.slice(2), value(x!), value(dy!), dw, db);
});

registerLowering('linear', (node, context) => {
  const [x, weight, bias] = node.inputs;
  const [outFeatures, inFeatures] = [weight!.shape[0]!, weight!.shape[1]!];
  const { settings, output } = epilogue(node, context, bias);
  const geometry = { batch: numElements(x!.shape) / inFeatures, inFeatures, outFeatures };
  return lowerLinearRows(context, geometry, settings, {
    a: value(x!),
    b: value(weight!),
    bias: bias ? value(bias) : UNUSED,
    c: value(output),
  });
});

function lowerMatmul(node: Node, context: LowerContext): LoweredDispatch[] {
  const [a, b] = node.inputs;
  const y = node.outputs[0]!;
  const { transposeA, transposeB } = node.attrs as MatmulAttrs;
  const [m, n] = [y.shape.at(-2)!, y.shape.at(-1)!];
  const k = transposeA ? a!.shape.at(-2)! : a!.shape.at(-1)!;
  const batch = numElements(y.shape.slice(0, -2));
  const batchOf = (shape: Shape) => numElements(shape.slice(0, -2));
  for (const [name, operand] of [
    ['A', a!],
    ['B', b!],
  ] as const) {
    const count = batchOf(operand.shape);
    if (count !== batch && count !== 1) {
      throw new UserError(
        `matmul in '${node.scope}': operand ${name} has ${count} matrices for a batch of ` +
          `${batch}; only one matrix or one per batch element is supported.`,
      );
    }
  }
  const geometry = {
    batch,
    m,
    n,
    k,
    transposeA,
    transposeB,
    broadcastA: batchOf(a!.shape) === 1 && batch > 1,
    broadcastB: batchOf(b!.shape) === 1 && batch > 1,
  };
  const operands = { a: value(a!), b: value(b!), bias: UNUSED, c: value(y) };
  // NOTE: batched products are not split over the binding limit; planMatmul rejects them.
  if (batch === 1) return lowerMatmul2d(context, geometry, operands);
  const plan = planMatmul(geometry, {}, context.limits);
  return [{ plan, operands: [operands.a, operands.b, operands.bias, operands.c] }];
}

registerLowering('matmul', lowerMatmul);
