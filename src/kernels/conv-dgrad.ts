// Planners of the convolution input gradient and of transposed convolution, which is the same
// product: an implicit GEMM per group from the output side back to the input side, or, for
// stride 1, the direct forward kernel over the output side with the kernel reversed.

import { UserError } from '../errors.js';
import dgradSource from '../../shaders/conv_dgrad.wgsl';
import stridedSource from '../../shaders/conv_dgrad_strided.wgsl';
import geometrySource from '../../shaders/conv_geometry.wgsl';
import { checkTensor, WEIGHT_ADVICE } from './common.js';
import {
  DIRECT_MAX_TERMS,
  foldedEpilogue,
  planDirectForward,
  planDirectPacking,
  type PackedWeights,
  type PackingLimits,
  type WeightPacking,
} from './conv-forward.js';
import { convConstants, convFlops, convTensorSizes, resolveConv, volume } from './conv.js';
import type { AxisPadding, Conv3d, ConvGeometry } from './conv.js';
import {
  chooseTile,
  epilogueConstants,
  epilogueSource,
  gemmSource,
  tileConstants,
  type GemmLimits,
  type GemmShape,
} from './matmul-tile.js';
import type { ConvForwardAlgorithm } from './conv-forward.js';
import type { Epilogue, KernelPlan } from './plan.js';
import { wgslNumber } from './template.js';

/**
 * Describes the input gradient's GEMM, its operand file and extra placeholders. Strides above
 * 1 with dilation 1 split into stride phases, so no kernel offset that misses is multiplied.
 */
function dgradGemm(conv: Conv3d): {
  shape: GemmShape;
  source: string;
  extra: Record<string, string>;
} {
  const groupIn = conv.inChannels / conv.groups;
  const groupOut = conv.outChannels / conv.groups;
  const strided = conv.stride.some((s) => s > 1) && conv.dilation.every((d) => d === 1);
  if (!strided) {
    const shape = {
      batch: conv.groups,
      m: groupIn,
      n: conv.batch * volume(conv.input),
      k: groupOut * volume(conv.kernel),
    };
    return { shape, source: dgradSource, extra: {} };
  }
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const positions = conv.input.map((size, axis) =>
    Math.ceil((size + conv.padBefore[axis]!) / conv.stride[axis]!),
  );
  const offsets = conv.kernel.map((size, axis) => Math.ceil(size / conv.stride[axis]!));
  const shape = {
    batch: conv.groups * volume(conv.stride),
    m: groupIn,
    n: conv.batch * volume(positions),
    k: groupOut * volume(offsets),
  };
  const extra: Record<string, string> = {};
  ['D', 'H', 'W'].forEach((axis, i) => {
    extra[`T_${axis}`] = u32(positions[i]!);
    extra[`J_${axis}`] = u32(offsets[i]!);
  });
  return { shape, source: stridedSource, extra };
}

/**
 * Returns the forward convolution of dy that gives dx when `conv` has stride 1 and its
 * padding before is at most the dilated kernel span: the same kernel, reversed, over dy padded
 * by span - padding on each side. Returns undefined for other convolutions.
 */
function gradientAsForward(conv: Conv3d): Conv3d | undefined {
  const spans = conv.kernel.map((k, axis) => conv.dilation[axis]! * (k - 1));
  const fits = spans.every(
    (span, axis) => conv.stride[axis] === 1 && conv.padBefore[axis]! <= span,
  );
  if (!fits) return undefined;
  return {
    ...conv,
    inChannels: conv.outChannels,
    outChannels: conv.inChannels,
    input: conv.output,
    output: conv.input,
    padBefore: spans.map((span, axis) => span - conv.padBefore[axis]!),
    padAfter: spans.map((span, axis) => span - conv.padAfter[axis]!),
  };
}

/** Returns the forward convolution that the direct kernel runs for conv's input gradient. */
function directDgrad(conv: Conv3d, algorithm?: ConvForwardAlgorithm): Conv3d | undefined {
  const asForward = gradientAsForward(conv);
  const terms = (conv.outChannels / conv.groups) * volume(conv.kernel);
  const direct = algorithm === 'direct' || (!algorithm && terms <= DIRECT_MAX_TERMS);
  return asForward && direct ? asForward : undefined;
}

function planDgrad(
  conv: Conv3d,
  epilogue: Epilogue,
  limits: GemmLimits,
  name: string,
  algorithm?: ConvForwardAlgorithm,
  packed?: PackedWeights,
): KernelPlan {
  const sizes = convTensorSizes(conv);
  checkTensor(limits, 'convolution input gradient', sizes.input);
  checkTensor(limits, 'convolution weight', sizes.weight, WEIGHT_ADVICE);
  checkTensor(limits, 'convolution output gradient', sizes.output);

  const asForward = gradientAsForward(conv);
  if (algorithm === 'direct' && !asForward) {
    throw new UserError(
      `The direct input gradient needs stride 1 and padding before <= dilation * ` +
        `(kernelSize - 1) on every axis, got stride [${conv.stride}] and padding ` +
        `[${conv.padBefore}]; use the 'gemm' algorithm.`,
    );
  }
  const direct = directDgrad(conv, algorithm);
  if (packed && !direct) {
    throw new Error(`Packed weights need the direct input-gradient kernel (${name}).`);
  }
  if (direct) return planDirectForward(direct, epilogue, true, `${name}_direct`, packed);

  const { shape, source: operandSource, extra } = dgradGemm(conv);
  const tile = chooseTile(shape, limits);
  const { constants, workgroups } = tileConstants(shape, tile);
  const folded = foldedEpilogue(epilogue);
  const parts = [operandSource, geometrySource, epilogueSource, folded.source];
  const source = gemmSource(name, parts, {
    ...constants,
    ...convConstants(conv),
    ...epilogueConstants(epilogue),
    ...folded.constants,
    ...extra,
  });
  const biasElements = epilogue.bias ? conv.inChannels : 0;
  // The folded operands are per channel of dx, and the residual has dx's shape.
  const asOutput = { ...conv, outChannels: conv.inChannels, output: conv.input };
  return {
    spec: {
      name,
      source,
      bindings: [
        'read-only-storage',
        'read-only-storage',
        'read-only-storage',
        'storage',
        ...folded.bindings,
      ],
    },
    workgroups,
    flops: convFlops(conv),
    bytes: 4 * (sizes.input + sizes.weight + sizes.output + biasElements) + folded.bytes(asOutput),
  };
}

// NOTE: with stride > 1 and dilation > 1 on some axis, the loop still visits every kernel
// offset for every input voxel and loads zeros for those that miss every output voxel, so it
// runs at about 1/s^3 of the stride-1 FLOP rate (stride s). Stride > 1 with dilation 1 is
// split into stride phases without that waste. With one input channel per group, each
// loaded dy value feeds one output and the product is bound by its index arithmetic.
/**
 * Plans dx, the gradient of a convolution with respect to its input. Bindings: dy, weight,
 * any buffer (no bias), dx ([batch, inChannels, ...inputSize]). `algorithm` defaults to
 * 'direct' (the direct forward kernel over dy) for stride 1 and up to DIRECT_MAX_TERMS
 * output channels per group x kernel taps, and to 'gemm' otherwise.
 */
export function planConvInputGrad(
  geometry: ConvGeometry,
  limits: GemmLimits,
  algorithm?: ConvForwardAlgorithm,
  packed?: PackedWeights,
): KernelPlan {
  const conv = resolveConv(geometry);
  return planDgrad(conv, {}, limits, `conv${conv.spatialDims}d_input_grad`, algorithm, packed);
}

/**
 * Plans the packing of the weights that planConvInputGrad's default kernel reads, or returns
 * undefined when it reads them unpacked (see planDirectPacking).
 */
export function planInputGradPacking(
  geometry: ConvGeometry,
  limits: PackingLimits,
): WeightPacking | undefined {
  const direct = directDgrad(resolveConv(geometry));
  return direct && planDirectPacking(direct, true, limits);
}

/**
 * A transposed convolution with PyTorch's layouts: input [batch, inChannels, ...inputSize],
 * weight [inChannels, outChannels / groups, ...kernelSize], output [batch, outChannels, ...].
 * Each output axis has size (input - 1) * stride - padBefore - padAfter +
 * dilation * (kernel - 1) + outputPadding + 1.
 */
export interface ConvTransposeGeometry extends ConvGeometry {
  /** Extra output size after the last element of each axis, < max(stride, dilation). Default 0. */
  outputPadding?: readonly number[];
}

/**
 * Returns the convolution whose input gradient is this transposed convolution. Its input is
 * the transposed convolution's output and its output the transposed convolution's input. Its
 * forward planner gives the transposed convolution's input gradient, and its weight-gradient
 * planner (with dy bound to the transposed input and x to the output gradient) the weight
 * gradient.
 */
export function transposeAsConv(geometry: ConvTransposeGeometry): ConvGeometry {
  const axes = geometry.inputSize.length;
  const stride = geometry.stride ?? new Array<number>(axes).fill(1);
  const dilation = geometry.dilation ?? new Array<number>(axes).fill(1);
  const padding: readonly AxisPadding[] = geometry.padding ?? stride.map(() => [0, 0] as const);
  const outputPadding = geometry.outputPadding ?? new Array<number>(axes).fill(0);
  if (outputPadding.length !== axes) {
    throw new UserError(
      `Transposed convolution outputPadding has ${outputPadding.length} entries for ${axes} ` +
        'spatial axes; give one entry per axis.',
    );
  }
  const outputSize = geometry.inputSize.map((size, axis) => {
    const extra = outputPadding[axis]!;
    const limit = Math.max(stride[axis] ?? 1, dilation[axis] ?? 1);
    if (!Number.isInteger(extra) || extra < 0 || extra >= limit) {
      throw new UserError(
        `Transposed convolution outputPadding on axis ${axis} must be an integer in ` +
          `[0, max(stride, dilation)) = [0, ${limit}), got ${extra}.`,
      );
    }
    const span = (dilation[axis] ?? 1) * ((geometry.kernelSize[axis] ?? 1) - 1);
    const [before, after] = padding[axis] ?? [0, 0];
    return (size - 1) * (stride[axis] ?? 1) - before - after + span + extra + 1;
  });
  if (outputSize.some((size) => size < 1)) {
    throw new UserError(
      `Transposed convolution output size [${outputSize.join(', ')}] is empty; use less padding.`,
    );
  }
  // The forward convolution's padding after absorbs outputPadding, so its output size is
  // exactly the transposed input size.
  const conv: ConvGeometry = {
    batch: geometry.batch,
    inChannels: geometry.outChannels,
    outChannels: geometry.inChannels,
    inputSize: outputSize,
    kernelSize: geometry.kernelSize,
    stride,
    padding: padding.map(([before, after], axis) => [before, after - outputPadding[axis]!]),
    dilation,
    groups: geometry.groups ?? 1,
  };
  return conv;
}

/**
 * Plans y = activation(convTranspose(x, weight) + bias). Bindings: x, weight, bias
 * ([outChannels]; any buffer when the epilogue has no bias), y.
 */
export function planConvTranspose(
  geometry: ConvTransposeGeometry,
  epilogue: Epilogue,
  limits: GemmLimits,
  packed?: PackedWeights,
): KernelPlan {
  const conv = resolveConv(transposeAsConv(geometry));
  return planDgrad(conv, epilogue, limits, `conv_transpose${conv.spatialDims}d`, undefined, packed);
}

/**
 * Plans the packing of the weights that planConvTranspose's default kernel reads, or returns
 * undefined when it reads them unpacked.
 */
export function planTransposePacking(
  geometry: ConvTransposeGeometry,
  limits: PackingLimits,
): WeightPacking | undefined {
  return planInputGradPacking(transposeAsConv(geometry), limits);
}
