// Planner of the convolution forward pass: an implicit GEMM per group on the tiled GEMM loop,
// or a direct kernel for few input channels x kernel taps, with the bias and activation fused
// into the store.

import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import directSource from '../../shaders/conv_forward_direct.wgsl';
import fusedEpilogueSource from '../../shaders/conv_epilogue_fused.wgsl';
import plainEpilogueSource from '../../shaders/conv_epilogue_plain.wgsl';
import forwardSource from '../../shaders/conv_forward.wgsl';
import geometrySource from '../../shaders/conv_geometry.wgsl';
import packSource from '../../shaders/conv_pack_weight.wgsl';
import packedWeightSource from '../../shaders/conv_weight_packed.wgsl';
import storageWeightSource from '../../shaders/conv_weight_storage.wgsl';
import { checkTensor, WEIGHT_ADVICE } from './common.js';
import { convConstants, convFlops, convTensorSizes, resolveConv, volume } from './conv.js';
import type { ConvGeometry } from './conv.js';
import {
  chooseTile,
  epilogueConstants,
  epilogueSource,
  gemmSource,
  tileConstants,
  type GemmLimits,
  type Tile,
} from './matmul-tile.js';
import type { Conv3d } from './conv.js';
import type { Epilogue, KernelPlan } from './plan.js';
import type { BindingKind } from '../runtime/index.js';
import { specialize, wgslNumber, type TemplateValue } from './template.js';

/** The forward kernel: 'gemm' (implicit GEMM) or 'direct' (conv_forward_direct.wgsl). */
export type ConvForwardAlgorithm = 'gemm' | 'direct';

/**
 * Reduction length (input channels per group x kernel volume) up to which 'direct' is chosen,
 * for the forward pass and the stride-1 input gradient. On lavapipe (bench/kernels.ts, loaded
 * 2-core machine) it ran the reference CNN's forward passes (27 to 432 terms) 2x to 3x and
 * its input gradients (216 to 864 terms) 2.7x to 3x faster than the GEMM.
 * NOTE: reductions over 864 terms were not measured.
 */
export const DIRECT_MAX_TERMS = 1024;

/** Outputs along w per thread of the direct kernel. */
const DIRECT_W_RUN = 8;

/**
 * A convolution's weights packed for the direct kernel (conv_pack_weight.wgsl): rows of
 * `rowLength` output channels, read through a uniform buffer of `elements` floats.
 */
export interface PackedWeights {
  rowLength: number;
  elements: number;
}

/** The dispatch that packs the weights and the table it writes (bindings: weight, table). */
export interface WeightPacking {
  plan: KernelPlan;
  table: PackedWeights;
}

/** Adapter limits that decide whether packed weights fit a uniform binding. */
export interface PackingLimits {
  /** The uniform binding limit. Without it, no weights are packed. */
  maxUniformBufferBindingSize?: number;
}

/**
 * Plans y = activation(conv(x, weight) + bias). Bindings: x, weight, bias ([outChannels]; any
 * buffer when the epilogue has no bias), y, and four more when the epilogue folds a norm or
 * residual (see foldedEpilogue). `tile` overrides the tile that chooseTile picks
 * and `algorithm` the kernel (default: 'direct' for short reductions without a tile).
 */
export function planConvForward(
  geometry: ConvGeometry,
  epilogue: Epilogue,
  limits: GemmLimits,
  tile?: Tile,
  algorithm?: ConvForwardAlgorithm,
  packed?: PackedWeights,
): KernelPlan {
  const conv = resolveConv(geometry);
  const sizes = convTensorSizes(conv);
  checkTensor(limits, 'convolution input', sizes.input);
  checkTensor(limits, 'convolution weight', sizes.weight, WEIGHT_ADVICE);
  checkTensor(limits, 'convolution output', sizes.output);
  if (packed || choosesDirect(conv, tile, algorithm)) {
    return planDirectForward(conv, epilogue, false, undefined, packed);
  }

  const shape = {
    batch: conv.groups,
    m: conv.outChannels / conv.groups,
    n: conv.batch * volume(conv.output),
    k: (conv.inChannels / conv.groups) * volume(conv.kernel),
  };
  const { constants, workgroups } = tileConstants(shape, tile ?? chooseTile(shape, limits));
  const folded = foldedEpilogue(epilogue);
  const parts = [forwardSource, geometrySource, epilogueSource, folded.source];
  const source = gemmSource('conv_forward', parts, {
    ...constants,
    ...convConstants(conv),
    ...epilogueConstants(epilogue),
    ...folded.constants,
  });
  const biasElements = epilogue.bias ? conv.outChannels : 0;
  return {
    spec: {
      name: `conv${conv.spatialDims}d_forward`,
      source,
      bindings: [...FORWARD_BINDINGS, ...folded.bindings],
    },
    workgroups,
    flops: convFlops(conv),
    bytes: 4 * (sizes.input + sizes.weight + sizes.output + biasElements) + folded.bytes(conv),
  };
}

function choosesDirect(conv: Conv3d, tile?: Tile, algorithm?: ConvForwardAlgorithm): boolean {
  const terms = (conv.inChannels / conv.groups) * volume(conv.kernel);
  return algorithm === 'direct' || (algorithm === undefined && !tile && terms <= DIRECT_MAX_TERMS);
}

/**
 * Plans the packing of the weights of `conv` for the direct kernel. Returns undefined when the
 * table would not fit: packing needs a multiple of 4 output channels per group and a table
 * within maxUniformBufferBindingSize. `conv` is the convolution that reads the table. With
 * `transposedWeight`, the weight binding is that of the convolution whose input gradient
 * `conv` computes (see planConvInputGrad).
 */
export function planDirectPacking(
  conv: Conv3d,
  transposedWeight: boolean,
  limits: PackingLimits,
): WeightPacking | undefined {
  const groupOut = conv.outChannels / conv.groups;
  const rowLength = groupOut;
  const elements = conv.groups * (conv.inChannels / conv.groups) * volume(conv.kernel) * rowLength;
  const limit = limits.maxUniformBufferBindingSize;
  if (limit === undefined || groupOut % 4 !== 0 || conv.outChannelBase % 4 !== 0) return undefined;
  if (elements * 4 > limit) return undefined;
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const name = `conv${conv.spatialDims}d_pack_weight`;
  const source = specialize(name, [packSource, geometrySource, WGSL_LINEAR_WORKGROUP].join('\n'), {
    ...convConstants(conv),
    ROW_LENGTH: u32(rowLength),
    TRANSPOSED_WEIGHT: transposedWeight,
  });
  return {
    plan: {
      spec: { name, source, bindings: ['read-only-storage', 'storage'] },
      workgroups: Math.ceil(elements / 64),
      flops: 0,
      bytes: 4 * (convTensorSizes(conv).weight + elements),
    },
    table: { rowLength, elements },
  };
}

/**
 * Plans the packing of a forward convolution's weights, or returns undefined when its default
 * kernel would not read packed weights (see planDirectPacking).
 */
export function planForwardPacking(
  geometry: ConvGeometry,
  limits: PackingLimits,
): WeightPacking | undefined {
  const conv = resolveConv(geometry);
  return choosesDirect(conv) ? planDirectPacking(conv, false, limits) : undefined;
}

/**
 * Plans the direct forward kernel for `conv`. With `transposedWeight`, the weight binding is
 * that of the convolution whose input gradient `conv` computes (see planConvInputGrad). With
 * `packed`, binding 1 is the uniform table that planDirectPacking's dispatch writes.
 */
export function planDirectForward(
  conv: Conv3d,
  epilogue: Epilogue,
  transposedWeight: boolean,
  name = `conv${conv.spatialDims}d_forward_direct`,
  packed?: PackedWeights,
): KernelPlan {
  const sizes = convTensorSizes(conv);
  const groupOut = conv.outChannels / conv.groups;
  // Packed weights are read 4 channels a vector, so their blocks are multiples of 4 channels.
  // On lavapipe (bench/kernels.ts) blocks of 8 channels x 8 outputs ran the reference CNN's
  // layers 1.1x to 1.8x faster than 16 x 8, 8 x 4, 16 x 4, 4 x 8 or 8 x 16.
  const blocks = packed ? [8, 4] : [8, 4, 2, 1];
  const block = blocks.find((m) => groupOut % m === 0);
  if (block === undefined || (packed && conv.outChannelBase % 4 !== 0)) {
    throw new Error(
      `Packed weights need a multiple of 4 output channels per group and a channel base ` +
        `that is a multiple of 4, got ${groupOut} and ${conv.outChannelBase}.`,
    );
  }
  const [outD, outH, outW] = conv.output as [number, number, number];
  const threads =
    conv.batch * (conv.outChannels / block) * outD * outH * Math.ceil(outW / DIRECT_W_RUN);
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const folded = foldedEpilogue(epilogue);
  const parts = [
    directSource,
    packed ? packedWeightSource : storageWeightSource,
    geometrySource,
    epilogueSource,
    folded.source,
    WGSL_LINEAR_WORKGROUP,
  ];
  const weightConstants: Record<string, TemplateValue> = packed
    ? { PACKED_VECTORS: u32(packed.elements / 4), ROW_LENGTH: u32(packed.rowLength) }
    : { TRANSPOSED_WEIGHT: transposedWeight };
  const source = specialize(name, parts.join('\n'), {
    ...convConstants(conv),
    ...epilogueConstants(epilogue),
    ...folded.constants,
    ...weightConstants,
    M_BLOCK: u32(block),
    W_RUN: u32(DIRECT_W_RUN),
    THREADS: u32(threads),
  });
  const biasElements = epilogue.bias ? conv.outChannels : 0;
  const bindings: BindingKind[] = [...FORWARD_BINDINGS, ...folded.bindings];
  if (packed) bindings[1] = 'uniform';
  const weightElements = packed ? packed.elements : sizes.weight;
  return {
    spec: { name, source, bindings },
    workgroups: Math.ceil(threads / 64),
    flops: convFlops(conv),
    bytes: 4 * (sizes.input + weightElements + sizes.output + biasElements) + folded.bytes(conv),
  };
}

const FORWARD_BINDINGS: BindingKind[] = [
  'read-only-storage',
  'read-only-storage',
  'read-only-storage',
  'storage',
];

/**
 * Returns the end of the epilogue: the activation alone, or with an eval-mode batch norm and a
 * residual folded in (conv_epilogue_fused.wgsl). The fused form adds four bindings after y:
 * the norm's statistics, its weight and bias, and the residual (any buffers where unread).
 * `bytes` counts those for a convolution whose output is `conv`'s output.
 */
export function foldedEpilogue(epilogue: Epilogue) {
  const norm = epilogue.norm ?? 'none';
  const residual = epilogue.residual === true;
  if (norm === 'none' && !residual) {
    return { source: plainEpilogueSource, constants: {}, bindings: [], bytes: () => 0 };
  }
  const constants: Record<string, TemplateValue> = {
    HAS_NORM: norm !== 'none',
    NORM_AFFINE: norm === 'affine',
    HAS_RESIDUAL: residual,
  };
  const bindings: BindingKind[] = new Array(4).fill('read-only-storage');
  const bytes = (conv: Conv3d) =>
    4 * ((norm === 'none' ? 0 : 3 + (norm === 'affine' ? 2 : 0)) * conv.outChannels) +
    (residual ? 4 * convTensorSizes(conv).output : 0);
  return { source: fusedEpilogueSource, constants, bindings, bytes };
}
