// Shared helpers of the kernel tests: seeded inputs, running one plan, error measures.

import type { KernelPlan } from '../../src/kernels/common.js';
import type { Gpu } from '../../src/runtime/index.js';

/** mulberry32: a small seeded generator, so every test input is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` values uniform in [low, high), rounded to f32 so the references read the GPU's inputs. */
export function randomValues(count: number, seed: number, low = -1, high = 1): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count }, () => low + (high - low) * random());
}

export function maxAbsError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`Length ${actual.length} differs from expected ${expected.length}.`);
  }
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!);
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst;
}

/** Largest |actual - expected| / (1 + |expected|): absolute near 0, relative for big values. */
export function maxMixedError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!));
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst;
}

type Data = Float32Array | Uint32Array;

/**
 * Runs `plan` with `inputs` uploaded to its first bindings and fresh buffers of the given
 * element counts for the rest, and returns every output as f32 values (read a u32 output
 * with `new Uint32Array(result.buffer)`).
 */
export async function runPlan(
  gpu: Gpu,
  plan: KernelPlan,
  inputs: Data[],
  outputElements: number[],
): Promise<Float32Array[]> {
  const kernel = await gpu.kernel(plan.spec);
  const inputBuffers = inputs.map((data, k) => gpu.upload(`input ${k}`, data));
  const outputBuffers = outputElements.map((count, k) =>
    gpu.createBuffer(`output ${k}`, count * 4),
  );
  await gpu.run(kernel, [...inputBuffers, ...outputBuffers], plan.workgroups);
  const results = await Promise.all(
    outputBuffers.map((buffer, k) => gpu.readF32(buffer, outputElements[k])),
  );
  for (const buffer of [...inputBuffers, ...outputBuffers]) buffer.destroy();
  return results;
}

/** Central finite difference of a scalar function at x, step h. */
export function centralDifference(f: (x: number) => number, x: number, h = 1e-6): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

/** Adapter limits for lowering graphs without an adapter (compile-time tests). */
export const LOWER_LIMITS = {
  maxStorageBufferBindingSize: 1 << 27,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
} as unknown as GPUSupportedLimits;
