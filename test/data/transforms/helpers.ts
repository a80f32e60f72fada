// Shared by the transform tests: both image backends, small volumes, and array comparison.

import assert from 'node:assert/strict';

import { ReferenceKernels } from '../../../src/data/transforms/reference.js';
import { affineFromRows, Volume, type Affine } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { loadImageKernels } from '../../../src/data/wasm/loader.js';

export const reference = new ReferenceKernels();

/** Returns the Wasm backend, loaded once for all tests. */
export function wasmKernels(): Promise<ImageBackend> {
  return loadImageKernels();
}

/** Returns a volume of `dims` whose voxel (i, j, k) has the value value(i, j, k). */
export function volumeOf(
  dims: readonly [number, number, number],
  value: (i: number, j: number, k: number) => number,
  affine: Affine = affineFromRows([]),
  source = '',
): Volume {
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  let v = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) data[v++] = value(i, j, k);
  }
  const volume = new Volume(data, dims, affine);
  volume.header.source = source;
  return volume;
}

/** Returns values from a fixed linear congruential sequence in [-1, 1), for test inputs. */
export function pseudoRandom(count: number, seed = 1): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/** Asserts that two arrays have the same length and differ by at most `tolerance` anywhere. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let worstIndex = -1;
  for (let i = 0; i < actual.length; i++) {
    const difference = Math.abs(actual[i]! - expected[i]!);
    if (!(difference <= worst)) {
      worst = difference;
      worstIndex = i;
    }
  }
  assert.ok(
    worst <= tolerance,
    `${what}: index ${worstIndex} is ${actual[worstIndex]}, expected ${expected[worstIndex]} ` +
      `(difference ${worst} > ${tolerance})`,
  );
}
