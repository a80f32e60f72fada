// Planners for batched matmul and the three products of a linear layer (forward and its two
// gradients), all on the tiled GEMM loop with register blocking.

import { UserError } from '../errors.js';
import matmulSource from '../../shaders/matmul.wgsl';
import dotSource from '../../shaders/matmul_dot.wgsl';
import smallKSource from '../../shaders/matmul_small_k.wgsl';
import directCommon from '../../shaders/matmul_direct_common.wgsl';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import { checkTensor } from './common.js';
import {
  chooseTile,
  epilogueConstants,
  epilogueSource,
  gemmSource,
  tileConstants,
} from './matmul-tile.js';
import type { GemmLimits, Tile } from './matmul-tile.js';
import type { Epilogue, KernelPlan } from './plan.js';
import { specialize, wgslNumber } from './template.js';

/**
 * Products with at most DOT_MAX_OUTPUTS outputs and at least DOT_MIN_K terms run one
 * workgroup per output (matmul_dot.wgsl), because the tiled loop gives them one workgroup.
 * In the reference CNN's profile on lavapipe (loaded machine), this cut its linear layer
 * (38,400 features to 2 classes) from ~135 ms to ~1 ms.
 */
const DOT_MAX_OUTPUTS = 256;
const DOT_MIN_K = 1024;

/**
 * Products with K up to this many terms and at least SMALL_K_MIN_OUTPUTS outputs run one
 * thread per output (matmul_small_k.wgsl): the linear layer's gradients over a small batch.
 */
const SMALL_K_MAX_K = 8;
const SMALL_K_MIN_OUTPUTS = 4096;

/**
 * Batched product C[z] = op(A[z]) @ op(B[z]) for z < batch, with op(A) [m, k], op(B) [k, n].
 * A is stored [batch, m, k], or [batch, k, m] when transposeA. B is stored [batch, k, n], or
 * [batch, n, k] when transposeB. With broadcastA (broadcastB) one matrix serves every z.
 */
export interface MatmulGeometry {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** Default false. */
  transposeA?: boolean;
  /** Default false. */
  transposeB?: boolean;
  /** Default false. */
  broadcastA?: boolean;
  /** Default false. */
  broadcastB?: boolean;
}

function checkGeometry(geometry: MatmulGeometry): void {
  for (const key of ['batch', 'm', 'n', 'k'] as const) {
    const value = geometry[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new UserError(`Matmul ${key} must be a positive integer, got ${value}.`);
    }
  }
}

/**
 * Plans C = op(A) @ op(B) (+ bias over n) then the activation. Bindings: A, B, bias ([n];
 * any buffer when the epilogue has no bias), C ([batch, m, n]). `tile` overrides the tile
 * that chooseTile picks (for tuning).
 */
export function planMatmul(
  geometry: MatmulGeometry,
  epilogue: Epilogue,
  limits: GemmLimits,
  tile?: Tile,
): KernelPlan {
  checkGeometry(geometry);
  const { batch, m, n, k } = geometry;
  const aBatches = geometry.broadcastA ? 1 : batch;
  const bBatches = geometry.broadcastB ? 1 : batch;
  checkTensor(limits, 'matmul A', aBatches * m * k);
  checkTensor(limits, 'matmul B', bBatches * k * n);
  checkTensor(limits, 'matmul C', batch * m * n);
  if (batch * m * n <= DOT_MAX_OUTPUTS && k >= DOT_MIN_K && tile === undefined) {
    return planMatmulDirect('matmul_dot', dotSource, geometry, epilogue, batch * m * n);
  }
  if (batch * m * n >= SMALL_K_MIN_OUTPUTS && k <= SMALL_K_MAX_K && tile === undefined) {
    const workgroups = Math.ceil((batch * m * n) / 256);
    return planMatmulDirect('matmul_small_k', smallKSource, geometry, epilogue, workgroups);
  }
  const shape = { batch, m, n, k };
  const { constants, workgroups } = tileConstants(shape, tile ?? chooseTile(shape, limits));
  const source = gemmSource('matmul', [matmulSource, epilogueSource], {
    ...constants,
    ...epilogueConstants(epilogue),
    ...operandConstants(geometry),
  });
  const elements = aBatches * m * k + bBatches * k * n + batch * m * n + (epilogue.bias ? n : 0);
  return {
    spec: {
      name: 'matmul',
      source,
      bindings: ['read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
    },
    workgroups,
    flops: 2 * batch * m * n * k,
    bytes: 4 * elements,
  };
}

function operandConstants(geometry: MatmulGeometry) {
  const { m, n, k } = geometry;
  const u32 = (value: number) => wgslNumber(value, 'u32');
  return {
    TRANSPOSE_A: geometry.transposeA === true,
    TRANSPOSE_B: geometry.transposeB === true,
    A_BATCH_STRIDE: u32(geometry.broadcastA ? 0 : m * k),
    B_BATCH_STRIDE: u32(geometry.broadcastB ? 0 : k * n),
  };
}

/** Plans a matmul kernel without tiles (matmul_dot or matmul_small_k). */
function planMatmulDirect(
  name: string,
  template: string,
  geometry: MatmulGeometry,
  epilogue: Epilogue,
  workgroups: number,
): KernelPlan {
  const { batch, m, n, k } = geometry;
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const source = specialize(
    name,
    [directCommon, template, epilogueSource, WGSL_LINEAR_WORKGROUP].join('\n'),
    {
      BATCH: u32(batch),
      GEMM_M: u32(m),
      GEMM_N: u32(n),
      GEMM_K: u32(k),
      ...operandConstants(geometry),
      ...epilogueConstants(epilogue),
    },
  );
  const aBatches = geometry.broadcastA ? 1 : batch;
  const bBatches = geometry.broadcastB ? 1 : batch;
  const elements = aBatches * m * k + bBatches * k * n + batch * m * n + (epilogue.bias ? n : 0);
  return {
    spec: {
      name,
      source,
      bindings: ['read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
    },
    workgroups,
    flops: 2 * batch * m * n * k,
    bytes: 4 * elements,
  };
}

/** A linear layer: x [batch, inFeatures] and weight [outFeatures, inFeatures], as in PyTorch. */
export interface LinearGeometry {
  batch: number;
  inFeatures: number;
  outFeatures: number;
}

/** y = x @ weight^T (+ bias) then activation. Bindings: x, weight, bias, y. */
export function planLinear(
  geometry: LinearGeometry,
  epilogue: Epilogue,
  limits: GemmLimits,
): KernelPlan {
  const { batch, inFeatures, outFeatures } = geometry;
  return planMatmul(
    { batch: 1, m: batch, n: outFeatures, k: inFeatures, transposeB: true },
    epilogue,
    limits,
  );
}

/** dx = dy @ weight. Bindings: dy, weight, any buffer (no bias), dx. */
export function planLinearInputGrad(geometry: LinearGeometry, limits: GemmLimits): KernelPlan {
  const { batch, inFeatures, outFeatures } = geometry;
  return planMatmul({ batch: 1, m: batch, n: inFeatures, k: outFeatures }, {}, limits);
}

/**
 * dweight = dy^T @ x. Bindings: dy, x, any buffer (no bias), dweight. The bias gradient is a
 * column sum of dy: planChannelSum with outer = batch, channels = outFeatures, inner = 1.
 */
export function planLinearWeightGrad(geometry: LinearGeometry, limits: GemmLimits): KernelPlan {
  const { batch, inFeatures, outFeatures } = geometry;
  return planMatmul(
    { batch: 1, m: outFeatures, n: inFeatures, k: batch, transposeA: true },
    {},
    limits,
  );
}
