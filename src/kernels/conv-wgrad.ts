// Planners of the convolution weight gradient (implicit GEMM with split K and an ordered
// reduction of the partial sums) and of per-channel sums, which give the bias gradient.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import channelSumSource from '../../shaders/conv_channel_sum.wgsl';
import geometrySource from '../../shaders/conv_geometry.wgsl';
import reduceSource from '../../shaders/conv_wgrad_reduce.wgsl';
import wgradSource from '../../shaders/conv_wgrad.wgsl';
import { checkTensor } from './common.js';
import { convConstants, convFlops, convTensorSizes, resolveConv, volume } from './conv.js';
import type { ConvGeometry } from './conv.js';
import {
  chooseTile,
  gemmSource,
  tileConstants,
  type GemmLimits,
  type Tile,
} from './matmul-tile.js';
import type { KernelPlan } from './plan.js';
import { specialize, wgslNumber } from './template.js';

// NOTE: with few channels (the first layer: 1 -> 8 channels, 27 kernel taps) each loaded
// value feeds at most max(M, N) multiply-adds, so this product is load-bound and runs at
// about 10-20% of the matmul rate on lavapipe. Reusing input rows across kernel taps (a
// sliding window in shared memory) would cut its loads about 3x; it is not implemented.
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
}

/**
 * Plans dweight, the gradient of a convolution with respect to its weight. Product bindings:
 * dy, x, then scratch (or dweight when there is no reduction). `splits` overrides the number
 * of K chunks and `tileOverride` the tile (defaults: chosen from the problem size).
 */
export function planConvWeightGrad(
  geometry: ConvGeometry,
  limits: GemmLimits,
  splits?: number,
  tileOverride?: Tile,
): SplitPlan {
  const conv = resolveConv(geometry);
  const sizes = convTensorSizes(conv);
  checkTensor(limits, 'convolution input', sizes.input);
  checkTensor(limits, 'convolution output gradient', sizes.output);
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
  if (!Number.isInteger(requested) || requested < 1) {
    throw new UserError(`Weight-gradient splits must be a positive integer, got ${requested}.`);
  }
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
  if (actual === 1) return { product, scratchElements: 0 };
  return {
    product,
    reduce: planSplitSum(actual, sizes.weight),
    scratchElements: actual * sizes.weight,
  };
}

/** Sums `splits` slices of `count` values in slice order. */
function planSplitSum(splits: number, count: number): KernelPlan {
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const source = specialize('conv_weight_grad_reduce', reduceSource + WGSL_LINEAR_WORKGROUP, {
    SPLITS: u32(splits),
    COUNT: u32(count),
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

/** Values each workgroup of the first pass sums; more chunks than this per channel wait. */
const CHUNK_LENGTH = 16384;

function planChannelSumPass(geometry: ChannelSumGeometry, chunks: number): KernelPlan {
  const { outer, channels, inner } = geometry;
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const chunk = Math.ceil((outer * inner) / chunks);
  const source = specialize('channel_sum', channelSumSource + WGSL_LINEAR_WORKGROUP, {
    OUTER: u32(outer),
    CHANNELS: u32(channels),
    INNER: u32(inner),
    CHUNKS: u32(chunks),
    CHUNK: u32(chunk),
  });
  const count = outer * channels * inner;
  return {
    spec: { name: 'channel_sum', source, bindings: ['read-only-storage', 'storage'] },
    workgroups: channels * chunks,
    flops: count,
    bytes: 4 * (count + channels * chunks),
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
  const chunks = Math.ceil((geometry.outer * geometry.inner) / CHUNK_LENGTH);
  const product = planChannelSumPass(geometry, chunks);
  if (chunks === 1) return { product, scratchElements: 0 };
  const reduce = planChannelSumPass({ outer: 1, channels: geometry.channels, inner: chunks }, 1);
  return { product, reduce, scratchElements: geometry.channels * chunks };
}
