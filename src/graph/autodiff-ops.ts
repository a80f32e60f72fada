// The ops that only backward passes use: vector-Jacobian products that are not a composition
// of forward ops (or would be a slow one). Each takes the output gradient `dy` first and
// returns gradients in the order of the forward op's differentiable inputs. Norm gradients
// assume train mode, because only training graphs are differentiated.

import { ShapeError } from './errors.js';
import { formatShape, numElements, type Shape } from './ir.js';
import type {
  AdaptivePoolAttrs,
  AvgPoolAttrs,
  BatchNormAttrs,
  ConvAttrs,
  DropoutAttrs,
  GroupNormAttrs,
  InstanceNormAttrs,
  LayerNormAttrs,
  MaxPoolAttrs,
  PadAttrs,
  ReduceAttrs,
  SliceAttrs,
  SoftmaxAttrs,
  UnaryOpName,
  UpsampleAttrs,
} from './ops/index.js';
import type { OpDef } from './ops/types.js';

/** Attributes of a unary activation, as its forward node had them. */
export type UnaryAttrs = Readonly<Record<string, number | string>>;

export interface GradOpAttrs {
  /** dy, weight -> dx, for conv. */
  convInputGrad: ConvAttrs & { inputShape: Shape };
  /** x, dy -> dweight, for conv (and, with x and dy swapped, for convTranspose). */
  /** With `bias`, a second output is the bias gradient: dy summed per output channel. */
  convWeightGrad: ConvAttrs & { weightShape: Shape; bias?: boolean };
  /** dy, x -> dx; the kernel recomputes each window's argmax (first maximum wins). */
  maxPoolGrad: MaxPoolAttrs;
  /** dy -> dx. */
  avgPoolGrad: AvgPoolAttrs & { inputShape: Shape };
  /** dy -> dx. */
  adaptiveAvgPoolGrad: AdaptivePoolAttrs & { inputShape: Shape };
  /** dy, x -> dx. */
  adaptiveMaxPoolGrad: AdaptivePoolAttrs;
  /** dy -> dx. */
  upsampleGrad: UpsampleAttrs & { inputShape: Shape };
  /** dy, x, y -> dx for the unary activation `op`. */
  unaryGrad: { op: UnaryOpName; attrs: UnaryAttrs };
  /** dy, x, weight -> dx, dweight. */
  preluGrad: Record<string, never>;
  /** dy, x[, weight] -> dx[, dweight, dbias], with batch statistics. */
  batchNormGrad: BatchNormAttrs;
  instanceNormGrad: InstanceNormAttrs;
  groupNormGrad: GroupNormAttrs;
  layerNormGrad: LayerNormAttrs;
  /** dy -> dx with the mask of the forward dropout node `stream` (same seed, same mask). */
  dropoutGrad: DropoutAttrs & { stream: number };
  /** dy, y -> dx. */
  softmaxGrad: SoftmaxAttrs;
  /** dy, y -> dx. */
  logSoftmaxGrad: SoftmaxAttrs;
  /** dy, x, y -> dx; every element equal to its maximum receives dy (the kernel's rule). */
  maxReduceGrad: ReduceAttrs;
  /** dy -> dx: dy scattered into zeros of the sliced input's shape. */
  sliceGrad: SliceAttrs & { inputShape: Shape };
  /** dy -> dx, summing the padded border back for reflect, replicate and circular modes. */
  padGrad: PadAttrs & { inputShape: Shape };
}

export type GradOpName = keyof GradOpAttrs;

function expectInputs(inputs: readonly Shape[], counts: readonly number[], layout: string): void {
  if (!counts.includes(inputs.length)) {
    throw new ShapeError(`expected inputs (${layout}) but got ${inputs.length}`);
  }
}

function sameShape(a: Shape, b: Shape, what: string): void {
  if (a.length !== b.length || a.some((size, axis) => size !== b[axis])) {
    throw new ShapeError(`${what}: shapes ${formatShape(a)} and ${formatShape(b)} differ`, {
      shapes: [a, b],
    });
  }
}

/** Infers a gradient's shape from the forward input shape its attributes record. */
function shapeFromAttr(count: number, layout: string) {
  return (inputs: readonly Shape[], attrs: { inputShape: Shape }): Shape[] => {
    expectInputs(inputs, [count], layout);
    return [[...attrs.inputShape]];
  };
}

/** Infers a gradient's shape as that of input `index` (the forward input passed along). */
function shapeOfInput(count: number, index: number, layout: string) {
  return (inputs: readonly Shape[]): Shape[] => {
    expectInputs(inputs, [count], layout);
    return [inputs[index]!];
  };
}

/** Norm gradients: dx like x, and dweight, dbias like weight when it is given. */
function normGrad(inputs: readonly Shape[]): Shape[] {
  expectInputs(inputs, [2, 3], 'dy, x[, weight]');
  sameShape(inputs[0]!, inputs[1]!, 'norm gradient dy and x');
  return inputs.length === 3 ? [inputs[1]!, inputs[2]!, inputs[2]!] : [inputs[1]!];
}

/** FLOPs of a gradient that costs `perElement` per element of its first output. */
function perOutput(perElement: number) {
  return (_inputs: readonly Shape[], outputs: readonly Shape[]) =>
    perElement * numElements(outputs[0]!);
}

/**
 * Both convolution gradients do the forward's multiply-adds: one per output-gradient element,
 * input channel of its group and kernel tap, i.e. numel(dy) * numel(weight) / outChannels.
 */
function convGradFlops(dy: Shape, weight: Shape): number {
  return (2 * numElements(dy) * numElements(weight)) / weight[0]!;
}
export const GRAD_OPS: { readonly [K in GradOpName]: OpDef<GradOpAttrs[K]> } = {
  convInputGrad: {
    inferShape: shapeFromAttr(2, 'dy, weight'),
    flops: (inputs) => convGradFlops(inputs[0]!, inputs[1]!),
  },
  convWeightGrad: {
    inferShape: (inputs, attrs) => {
      expectInputs(inputs, [2], 'x, dy');
      const dweight = [...attrs.weightShape];
      return attrs.bias ? [dweight, [attrs.weightShape[0]!]] : [dweight];
    },
    flops: (inputs, outputs) => convGradFlops(inputs[1]!, outputs[0]!),
  },
  maxPoolGrad: { inferShape: shapeOfInput(2, 1, 'dy, x'), flops: perOutput(1) },
  avgPoolGrad: { inferShape: shapeFromAttr(1, 'dy'), flops: perOutput(1) },
  adaptiveAvgPoolGrad: { inferShape: shapeFromAttr(1, 'dy'), flops: perOutput(1) },
  adaptiveMaxPoolGrad: { inferShape: shapeOfInput(2, 1, 'dy, x'), flops: perOutput(1) },
  upsampleGrad: { inferShape: shapeFromAttr(1, 'dy'), flops: perOutput(8) },
  unaryGrad: {
    inferShape: (inputs) => {
      expectInputs(inputs, [3], 'dy, x, y');
      sameShape(inputs[0]!, inputs[1]!, 'activation gradient dy and x');
      return [inputs[1]!];
    },
    flops: perOutput(4),
  },
  preluGrad: {
    inferShape: (inputs) => {
      expectInputs(inputs, [3], 'dy, x, weight');
      return [inputs[1]!, inputs[2]!];
    },
    flops: perOutput(3),
  },
  batchNormGrad: { inferShape: normGrad, flops: perOutput(8) },
  instanceNormGrad: { inferShape: normGrad, flops: perOutput(8) },
  groupNormGrad: { inferShape: normGrad, flops: perOutput(8) },
  layerNormGrad: { inferShape: normGrad, flops: perOutput(8) },
  dropoutGrad: { inferShape: shapeOfInput(1, 0, 'dy'), flops: perOutput(1) },
  softmaxGrad: { inferShape: shapeOfInput(2, 0, 'dy, y'), flops: perOutput(4) },
  logSoftmaxGrad: { inferShape: shapeOfInput(2, 0, 'dy, y'), flops: perOutput(4) },
  maxReduceGrad: {
    inferShape: (inputs) => {
      expectInputs(inputs, [3], 'dy, x, y');
      return [inputs[1]!];
    },
    flops: perOutput(1),
  },
  sliceGrad: { inferShape: shapeFromAttr(1, 'dy'), flops: () => 0 },
  padGrad: { inferShape: shapeFromAttr(1, 'dy'), flops: perOutput(1) },
};
