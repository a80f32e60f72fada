// The kernel of the browser smoke test, run by the same runtime code in Node (Dawn) and in a
// page (navigator.gpu), so that the test can compare the two. Its arithmetic is exact in f32
// and u32, so every conforming WebGPU implementation returns the same bits.

import type { Gpu } from '../../runtime/gpu.js';
import { WGSL_LINEAR_WORKGROUP } from '../../runtime/kernel.js';

const SMOKE_WGSL = /* wgsl */ `
${WGSL_LINEAR_WORKGROUP}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> hash: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * 64u + lid;
  if (i >= arrayLength(&y)) { return; }
  y[i] = x[i] * 0.5 + f32(i);
  hash[i] = (i * 2654435761u) ^ bitcast<u32>(x[i]);
}`;

/** Inputs of the smoke kernel: quarters in [-8, 8), exact in f32. */
export function smokeInput(length: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => ((i * 37) % 64) / 4 - 8);
}

/** Runs the smoke kernel on `input` and returns both outputs as plain arrays. */
export async function runSmokeKernel(
  gpu: Gpu,
  input: Float32Array,
): Promise<{ y: number[]; hash: number[] }> {
  const kernel = await gpu.kernel({
    name: 'smoke',
    source: SMOKE_WGSL,
    bindings: ['read-only-storage', 'storage', 'storage'],
  });
  const x = gpu.upload('x', input);
  const y = gpu.createBuffer('y', input.byteLength);
  const hash = gpu.createBuffer('hash', input.byteLength);
  await gpu.run(kernel, [x, y, hash], Math.ceil(input.length / 64));
  const result = {
    y: [...(await gpu.readF32(y, input.length))],
    hash: [...(await gpu.readU32(hash, input.length))],
  };
  for (const buffer of [x, y, hash]) buffer.destroy();
  return result;
}
