// Tile selection and specialisation of the GEMM loop in shaders/matmul_tile.wgsl, shared by
// matmul and the implicit-GEMM convolutions. Each operand file supplies the indexing; this
// file decides the tile shape, the K split and the workgroup count.

import { GpuLimitError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import tileSource from '../../shaders/matmul_tile.wgsl';
import epilogueSource from '../../shaders/matmul_epilogue.wgsl';
import { activationConstants, type Epilogue } from './plan.js';
import { specialize, wgslNumber, type TemplateValue } from './template.js';

/** A GEMM problem: `batch` independent products of [m, k] by [k, n]. */
export interface GemmShape {
  batch: number;
  m: number;
  n: number;
  k: number;
}

export interface Tile {
  tileM: number;
  tileN: number;
  tileK: number;
  regM: number;
  regN: number;
  /** Groups of threads that share the k rows of a tile (default 1). */
  kLanes?: number;
}

/** The adapter limits that bound a tile. */
export type TileLimits = Pick<
  GPUSupportedLimits,
  'maxComputeWorkgroupStorageSize' | 'maxComputeInvocationsPerWorkgroup'
>;

/** The adapter limits a GEMM planner checks: tile bounds and the binding size. */
export type GemmLimits = TileLimits & Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize'>;

// [tileM, tileN, regM, regN, kLanes], each with 64 to 256 threads. Wide-N tiles serve
// convolutions, whose M (channels) is small and N (voxels) large. Small tiles with several
// k lanes serve weight gradients, whose output is small and K large. On lavapipe, 8x8
// register blocks ran a 512^3 matmul 1.4x to 4x faster than 4x4 blocks (noisy timings on a
// loaded 2-core machine), because each shared-memory load feeds 8 multiply-adds.
const CANDIDATES: readonly (readonly [number, number, number, number, number])[] = [
  [128, 128, 8, 8, 1],
  [64, 128, 8, 8, 1],
  [128, 64, 8, 8, 1],
  [64, 64, 8, 8, 1],
  [32, 256, 8, 8, 1],
  [32, 128, 8, 8, 1],
  [128, 32, 8, 8, 1],
  [16, 256, 8, 8, 1],
  [8, 512, 8, 8, 1],
  [8, 256, 8, 4, 1],
  [4, 256, 4, 4, 1],
  [1, 256, 1, 4, 1],
  [64, 64, 4, 4, 1],
  [32, 32, 4, 4, 1],
  [32, 32, 8, 8, 4],
  [16, 32, 8, 4, 4],
  [32, 16, 4, 8, 4],
  [8, 32, 8, 4, 8],
  [32, 8, 4, 8, 8],
  [16, 16, 4, 4, 4],
];

/** Bytes of workgroup memory an operand file may use per k of a tile (its KContext). */
const CONTEXT_BYTES = 32;

/** Workgroup counts below this leave a GPU's cores idle; smaller tiles are preferred then. */
const MIN_WORKGROUPS = 64;

/** Floats of the lane_sums array that K lanes reduce through. */
function laneSums(tileM: number, tileN: number, kLanes: number): number {
  return Math.max(1, (kLanes - 1) * tileM * tileN);
}

function tileK(tileM: number, tileN: number, kLanes: number, limits: TileLimits): number {
  for (const k of [16, 8, 4]) {
    if (k < kLanes) break;
    const bytes = ((tileM + tileN) * k + laneSums(tileM, tileN, kLanes)) * 4 + k * CONTEXT_BYTES;
    if (bytes <= limits.maxComputeWorkgroupStorageSize) return k;
  }
  return 0;
}

/**
 * Picks the tile with the least estimated cost. The cost is the work padded up to whole
 * tiles, weighted by the shared-memory loads per multiply-add (1/regM + 1/regN) and the
 * global loads per multiply-add (1/tileM + 1/tileN). Dispatches with too few workgroups to
 * fill a GPU and the final sum over k lanes add penalties. NOTE: the weights are rough fits to lavapipe timings, not tuned per adapter.
 */
export function chooseTile(shape: GemmShape, limits: TileLimits, splits = 1): Tile {
  let best: Tile | undefined;
  let bestCost = Infinity;
  for (const [tileM, tileN, regM, regN, kLanes] of CANDIDATES) {
    const threads = (tileM / regM) * (tileN / regN) * kLanes;
    const k = tileK(tileM, tileN, kLanes, limits);
    if (threads > limits.maxComputeInvocationsPerWorkgroup || k === 0) continue;
    const tilesM = Math.ceil(shape.m / tileM);
    const tilesN = Math.ceil(shape.n / tileN);
    const padded = tilesM * tileM * tilesN * tileN;
    const workgroups = tilesM * tilesN * shape.batch * splits;
    const traffic = 1 + 2 * (1 / regM + 1 / regN) + 4 * (1 / tileM + 1 / tileN);
    const occupancy = workgroups < MIN_WORKGROUPS ? Math.sqrt(MIN_WORKGROUPS / workgroups) : 1;
    // Each extra k lane adds one pass over the tile's outputs at the end.
    const laneReduction = 1 + ((kLanes - 1) * 4) / Math.max(1, shape.k / splits);
    const cost = padded * traffic * occupancy * laneReduction;
    if (cost < bestCost) {
      bestCost = cost;
      best = { tileM, tileN, tileK: k, regM, regN, kLanes };
    }
  }
  if (!best) {
    throw new GpuLimitError(
      `No GEMM tile fits this adapter (maxComputeWorkgroupStorageSize ` +
        `${limits.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ` +
        `${limits.maxComputeInvocationsPerWorkgroup}); WebGPU guarantees at least 16384 and 256.`,
    );
  }
  return best;
}

/** Computes the GEMM loop's placeholders for `shape` with K cut into `splits` chunks. */
export function tileConstants(
  shape: GemmShape,
  tile: Tile,
  splits = 1,
): { constants: Record<string, TemplateValue>; workgroups: number; splits: number } {
  const kLanes = tile.kLanes ?? 1;
  const threads = (tile.tileM / tile.regM) * (tile.tileN / tile.regN) * kLanes;
  const chunk = Math.ceil(Math.ceil(shape.k / splits) / tile.tileK) * tile.tileK;
  const actualSplits = Math.ceil(shape.k / chunk);
  const tilesM = Math.ceil(shape.m / tile.tileM);
  const tilesN = Math.ceil(shape.n / tile.tileN);
  const workgroups = tilesM * tilesN * actualSplits * shape.batch;
  const u32 = (value: number) => wgslNumber(value, 'u32');
  const constants: Record<string, TemplateValue> = {
    TILE_M: u32(tile.tileM),
    TILE_N: u32(tile.tileN),
    TILE_K: u32(tile.tileK),
    REG_M: u32(tile.regM),
    REG_N: u32(tile.regN),
    THREADS: u32(threads),
    K_LANES: u32(kLanes),
    LANE_SUMS: u32(laneSums(tile.tileM, tile.tileN, kLanes)),
    GEMM_M: u32(shape.m),
    GEMM_N: u32(shape.n),
    GEMM_K: u32(shape.k),
    K_CHUNK: u32(chunk),
    SPLITS: u32(actualSplits),
    TILES_M: u32(tilesM),
    TILES_N: u32(tilesN),
    WORKGROUPS: u32(workgroups),
    A_LANES: u32(Math.min(threads, tile.tileM)),
    B_LANES: u32(Math.min(threads, tile.tileN)),
  };
  return { constants, workgroups, splits: actualSplits };
}

/** Computes the epilogue's placeholders. */
export function epilogueConstants(epilogue: Epilogue): Record<string, TemplateValue> {
  const { code, parameter } = activationConstants(epilogue);
  return {
    ACTIVATION: wgslNumber(code, 'u32'),
    ACTIVATION_PARAMETER: wgslNumber(parameter, 'f32'),
    HAS_BIAS: epilogue.bias === true,
  };
}

/**
 * Specialises the operand files `parts` (for example an operand file and the epilogue)
 * followed by the GEMM loop into one WGSL source.
 */
export function gemmSource(
  name: string,
  parts: readonly string[],
  constants: Record<string, TemplateValue>,
): string {
  return specialize(name, [...parts, tileSource, WGSL_LINEAR_WORKGROUP].join('\n'), constants);
}

export { epilogueSource };
