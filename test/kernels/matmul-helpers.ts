// Shared by the matmul and convolution kernel tests: seeded inputs, running a plan on the GPU
// and comparing against a float64 reference.

import assert from 'node:assert/strict';
import type { Gpu } from '../../src/runtime/index.js';
import type { KernelPlan } from '../../src/kernels/plan.js';

/** Uniform values in [-1, 1) from a 32-bit xorshift generator, so inputs are reproducible. */
export function seededValues(length: number, seed: number): Float32Array {
  let state = (seed * 2654435761) >>> 0 || 1;
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}

/**
 * Runs `plan` once with `inputs` bound in order followed by a zeroed output of `outputLength`
 * elements, and returns the output.
 */
export async function runPlan(
  gpu: Gpu,
  plan: KernelPlan,
  inputs: Float32Array[],
  outputLength: number,
): Promise<Float32Array> {
  const kernel = await gpu.kernel(plan.spec);
  const buffers = inputs.map((data, i) => gpu.upload(`input ${i}`, data));
  const output = gpu.createBuffer('output', outputLength * 4);
  await gpu.run(kernel, [...buffers, output], plan.workgroups);
  const result = await gpu.readF32(output, outputLength);
  for (const buffer of [...buffers, output]) buffer.destroy();
  return result;
}

/** Asserts max |actual - expected| <= tolerance, naming the first element that fails. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let worstIndex = -1;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!);
    if (!(error <= worst)) {
      worst = error;
      worstIndex = i;
    }
  }
  assert.ok(
    worst <= tolerance,
    `${what}: max error ${worst} > ${tolerance} at ${worstIndex} ` +
      `(got ${actual[worstIndex]}, expected ${expected[worstIndex]})`,
  );
}
