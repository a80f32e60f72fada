// Planners of the convolution weight gradient (implicit GEMM with split K, or a direct kernel
// for few input channels, each followed by an ordered reduction of the partial sums) and of
// per-channel sums, which give the bias gradient.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import channelSumSource from '../../shaders/conv_channel_sum.wgsl';
import geometrySource from '../../shaders/conv_geometry.wgsl';
import reduceSource from '../../shaders/conv_wgrad_reduce.wgsl';
import wgradSource from '../../shaders/conv_wgrad.wgsl';
import biasSource from '../../shaders/conv_wgrad_bias.wgsl';
import directSource from '../../shaders/conv_wgrad_direct.wgsl';
import noBiasSource from '../../shaders/conv_wgrad_no_bias.wgsl';
import { checkTensor } from './common.js';
import { convConstants, convFlops, convTensorSizes, resolveConv, volume } from './conv.js';
import type { Conv3d, ConvGeometry } from './conv.js';
import {
  chooseTile,
  gemmSource,
  tileConstants,
  type GemmLimits,
  type Tile,
} from './matmul-tile.js';
import type { KernelPlan } from './plan.js';
import { specialize, wgslNumber } from './template.js';

/** Workgroups the split-K product aims for, enough to occupy a GPU (or all CPU cores). */
const TARGET_WORKGROUPS = 256;
/** Each split covers at least this many K values, so the partial sums stay small. */
const MIN_SPLIT_LENGTH = 512;

/** A gradient computed by a product kernel and an optional ordered reduction of its parts. */
export interface SplitPlan {
  /** The product; its last binding is `scratch`, or the gradient when `reduce` is absent. */
  product: KernelPlan;
  /** Sums the parts in `scratch` into the gradient (bindings: scratch, gradient). */
  reduce?: KernelPlan;
  /** f32 elements of the scratch buffer (0 when `reduce` is absent). */
  scratchElements: number;
  /**
   * Set when the product also computes the bias gradient: its binding 3 is then the bias
   * scratch, or the bias gradient when `bias.reduce` is absent.
   */
  bias?: { reduce?: KernelPlan; scratchElements: number };
}

/**
 * The weight-gradient kernel: 'gemm' (implicit GEMM with split K) or 'direct'
 * (conv_wgrad_direct.wgsl, for few input channels x kernel taps).
 */
export type WeightGradAlgorithm = 'gemm' | 'direct';

/**
 * Columns (input channels per group x kernel volume) up to which the direct kernel is chosen.
 * On lavapipe (bench/kernels.ts, loaded 2-core machine) it ran the weight gradients of the
 * reference CNN's layers (27, 216 and 432 columns) 3.5x to 11x faster than the GEMM, which
 * reloads each input value once per kernel tap. NOTE: larger layers were not measured.
 */
const DIRECT_MAX_COLUMNS = 512;

/** Accumulators per thread of the direct kernel, about the GEMM's 64 (8x8 register blocks). */
const DIRECT_MAX_ACCUMULATORS = 72;

/** Threads the direct kernel aims for: the weight blocks times the row splits. */
const DIRECT_TARGET_THREADS = 4096;

/**
 * Plans dweight, the gradient of a convolution with respect to its weight. Product bindings:
 * dy, x, then scratch (or dweight when there is no reduction). `splits` overrides the number
 * of K chunks (rows of the output for the direct kernel), `tileOverride` the GEMM tile and
 * `algorithm` the kernel (defaults: chosen from the problem size).
 */
export function planConvWeightGrad(
  geometry: ConvGeometry,
  limits: GemmLimits,
  splits?: number,
  tileOverride?: Tile,
  algorithm?: WeightGradAlgorithm,
  withBias = false,
): SplitPlan {
  const conv = resolveConv(geometry);
  const sizes = convTensorSizes(conv);
  checkTensor(limits, 'convolution input', sizes.input);
  checkTensor(limits, 'convolution output gradient', sizes.output);
  checkSplits(splits);

  const direct = directBlock(conv);
  const columns = (conv.inChannels / conv.groups) * volume(conv.kernel);
  if (algorithm === 'direct' && !direct) {
    throw new UserError(
      `The direct weight gradient needs a kernel width of at most ` +
        `${DIRECT_MAX_ACCUMULATORS}, got ${conv.kernel[2]}; use the 'gemm' algorithm.`,
    );
  }
  if (
    algorithm === 'direct' ||
    (algorithm === undefined && direct && !tileOverride && columns <= DIRECT_MAX_COLUMNS)
  ) {
    return planDirectWeightGrad(conv, direct!, limits, splits, withBias);
  }

  const shape = {
    batch: conv.groups,
    m: conv.outChannels / conv.groups,
    n: (conv.inChannels / conv.groups) * volume(conv.kernel),
    k: conv.batch * volume(conv.output),
  };
  const tile = tileOverride ?? chooseTile(shape, limits, TARGET_WORKGROUPS);
  const tiles = Math.ceil(shape.m / tile.tileM) * Math.ceil(shape.n / tile.tileN) * shape.batch;
  const requested =
    splits ??
    Math.max(
      1,
      Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(shape.k / MIN_SPLIT_LENGTH)),
    );
  const { constants, workgroups, splits: actual } = tileConstants(shape, tile, requested);
  checkTensor(limits, 'convolution weight-gradient partial sums', actual * sizes.weight);
  const name = `conv${conv.spatialDims}d_weight_grad`;
  const source = gemmSource(name, [wgradSource, geometrySource], {
    ...constants,
    ...convConstants(conv),
  });
  const product: KernelPlan = {
    spec: { name, source, bindings: ['read-only-storage', 'read-only-storage', 'storage'] },
    workgroups,
    flops: convFlops(conv),
    bytes: 4 * (sizes.input + sizes.output + actual * sizes.weight),
  };
  return withReduction(product, actual, sizes.weight);
}

function checkSplits(splits: number | undefined): void {
  if (splits !== undefined && (!Number.isInteger(splits) || splits < 1)) {
    throw new UserError(`Weight-gradient splits must be a positive integer, got ${splits}.`);
  }
}

function withReduction(product: KernelPlan, splits: number, weights: number): SplitPlan {
  if (splits === 1) return { product, scratchElements: 0 };
  return {
    product,
    reduce: planSplitSum(splits, weights),
    scratchElements: splits * weights,
  };
}

/** A direct-kernel thread's weight block, or undefined when no block fits its registers. */
interface DirectBlock {
  outChannels: number;
  kernelRows: number;
}

function directBlock(conv: Conv3d): DirectBlock | undefined {
  const [, kernelH, kernelW] = conv.kernel as [number, number, number];
  const groupOut = conv.outChannels / conv.groups;
  const outChannels = [8, 4, 2, 1].find(
    (m) => groupOut % m === 0 && m * kernelW <= DIRECT_MAX_ACCUMULATORS,
  );
  if (outChannels === undefined) return undefined;
  const rows = outChannels * kernelH * kernelW <= DIRECT_MAX_ACCUMULATORS ? kernelH : 1;
  return { outChannels, kernelRows: rows };
}

function planDirectWeightGrad(
  conv: Conv3d,
  block: DirectBlock,
  limits: GemmLimits,
  splits: number | undefined,
  withBias: boolean,
): SplitPlan {
  const sizes = convTensorSizes(conv);
  const [outD, outH, outW] = conv.output as [number, number, number];
  const [kernelD, kernelH] = conv.kernel as [number, number, number];
  const rows = conv.batch * outD * outH;
  const blocks =
    (conv.outChannels / block.outChannels) *
    (conv.inChannels / conv.groups) *
    kernelD *
    (kernelH / block.kernelRows);
  const minRows = Math.ceil(MIN_SPLIT_LENGTH / outW);
  const requested =
    splits ?? Math.max(1, Math.min(Math.ceil(DIRECT_TARGET_THREADS / blocks), rows / minRows));
  const rowsPerSplit = Math.ceil(rows / Math.min(rows, Math.floor(requested)));
  const actual = Math.ceil(rows / rowsPerSplit);
  checkTensor(limits, 'convolution weight-gradient partial sums', actual * sizes.weight);
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const name = `conv${conv.spatialDims}d_weight_grad_direct`;
  const source = specialize(
    name,
    [
      directSource,
      withBias ? biasSource : noBiasSource,
      geometrySource,
      WGSL_LINEAR_WORKGROUP,
    ].join('\n'),
    {
      ...convConstants(conv),
      M_BLOCK: u32(block.outChannels),
      TAPS_H: u32(block.kernelRows),
      SPLITS: u32(actual),
      ROWS_PER_SPLIT: u32(rowsPerSplit),
      ROWS: u32(rows),
      BLOCKS: u32(blocks),
    },
  );
  const product: KernelPlan = {
    spec: {
      name,
      source,
      bindings: [
        'read-only-storage',
        'read-only-storage',
        'storage',
        ...(withBias ? ['storage' as const] : []),
      ],
    },
    workgroups: Math.ceil((actual * blocks) / 64),
    flops: convFlops(conv) + (withBias ? sizes.output : 0),
    bytes:
      4 *
      (sizes.input + sizes.output + actual * (sizes.weight + (withBias ? conv.outChannels : 0))),
  };
  const plan = withReduction(product, actual, sizes.weight);
  if (!withBias) return plan;
  const bias = withReduction(product, actual, conv.outChannels);
  return { ...plan, bias: { reduce: bias.reduce, scratchElements: bias.scratchElements } };
}

/** Layout of an ordered sum's parts and of its result (see planSplitSum). */
export interface SplitSumLayout {
  /** Distance between the parts of one element. Default: count (parts are slices). */
  splitStride?: number;
  /** Distance between elements within one part. Default 1. */
  elementStride?: number;
  /** First element of the output written. Default 0. */
  outBase?: number;
  /** Adds to the output's values instead of overwriting them. Default false. */
  accumulate?: boolean;
}

/**
 * Sums `splits` parts of `count` values each, in part order (bindings: parts, output). By
 * default the parts are consecutive slices and the sum overwrites output elements [0, count).
 */
export function planSplitSum(
  splits: number,
  count: number,
  layout: SplitSumLayout = {},
): KernelPlan {
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const source = specialize('conv_weight_grad_reduce', reduceSource + WGSL_LINEAR_WORKGROUP, {
    SPLITS: u32(splits),
    COUNT: u32(count),
    SPLIT_STRIDE: u32(layout.splitStride ?? count),
    ELEMENT_STRIDE: u32(layout.elementStride ?? 1),
    OUT_BASE: u32(layout.outBase ?? 0),
    ACCUMULATE: layout.accumulate ?? false,
  });
  return {
    spec: { name: 'conv_weight_grad_reduce', source, bindings: ['read-only-storage', 'storage'] },
    workgroups: Math.ceil(count / 256),
    flops: splits * count,
    bytes: 4 * (splits + 1) * count,
  };
}

/** A tensor viewed as [outer, channels, inner], summed per channel. */
export interface ChannelSumGeometry {
  outer: number;
  channels: number;
  inner: number;
}

/** Values each workgroup of the first pass sums; more parts than this per channel wait. */
const CHUNK_LENGTH = 16384;

/**
 * Rows at least this long are cut into contiguous parts, read as vec4 when INNER is a multiple
 * of 4. Shorter rows are summed over the flattened (outer, inner) index. In the reference CNN's
 * profile on lavapipe, the contiguous parts took the bias gradients from 338 ms to 156 ms.
 */
const MIN_ROW_LENGTH = 1024;

interface ChannelSumParts {
  /** Parts per channel. */
  chunks: number;
  /** Values per part. */
  chunk: number;
  /** Parts per (outer, channel) row, or 0 when the parts cut the flattened index. */
  rowChunks: number;
}

function channelSumParts({ outer, inner }: ChannelSumGeometry): ChannelSumParts {
  if (inner < MIN_ROW_LENGTH) {
    const chunks = Math.ceil((outer * inner) / CHUNK_LENGTH);
    return { chunks, chunk: Math.ceil((outer * inner) / chunks), rowChunks: 0 };
  }
  const rowChunks = Math.ceil(inner / CHUNK_LENGTH);
  // A multiple of 4, so every part starts on a vec4 when the row does.
  const chunk = 4 * Math.ceil(inner / rowChunks / 4);
  return { chunks: outer * rowChunks, chunk, rowChunks };
}

function planChannelSumPass(geometry: ChannelSumGeometry, parts: ChannelSumParts): KernelPlan {
  const { outer, channels, inner } = geometry;
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const vectorized = parts.rowChunks > 0 && inner % 4 === 0;
  const source = specialize('channel_sum', channelSumSource + WGSL_LINEAR_WORKGROUP, {
    T: vectorized ? 'vec4f' : 'f32',
    TOTAL: vectorized ? '(v.x + v.y) + (v.z + v.w)' : 'v',
    WIDTH: u32(vectorized ? 4 : 1),
    OUTER: u32(outer),
    CHANNELS: u32(channels),
    INNER: u32(inner),
    CHUNKS: u32(parts.chunks),
    CHUNK: u32(parts.chunk),
    ROW_CHUNKS: u32(parts.rowChunks),
  });
  const count = outer * channels * inner;
  return {
    spec: { name: 'channel_sum', source, bindings: ['read-only-storage', 'storage'] },
    workgroups: channels * parts.chunks,
    flops: count,
    bytes: 4 * (count + channels * parts.chunks),
  };
}

/**
 * Plans per-channel sums of a [outer, channels, inner] tensor: the bias gradient of a
 * convolution (outer = batch, inner = output voxels) or of a linear layer (inner = 1). The
 * product sums chunks into scratch ([channels, chunks]); reduce sums the chunks in order.
 */
export function planChannelSum(geometry: ChannelSumGeometry, limits: GemmLimits): SplitPlan {
  for (const key of ['outer', 'channels', 'inner'] as const) {
    const value = geometry[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new UserError(`Channel sum ${key} must be a positive integer, got ${value}.`);
    }
  }
  checkTensor(limits, 'channel sum input', geometry.outer * geometry.channels * geometry.inner);
  const parts = channelSumParts(geometry);
  const product = planChannelSumPass(geometry, parts);
  if (parts.chunks === 1) return { product, scratchElements: 0 };
  const sums = { outer: 1, channels: geometry.channels, inner: parts.chunks };
  const reduce = planChannelSumPass(sums, channelSumParts(sums));
  return { product, reduce, scratchElements: geometry.channels * parts.chunks };
}
