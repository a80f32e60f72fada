// WGSL kernels shared by the runtime tests. Each indexes its workgroups through
// linear_workgroup() so that it stays correct when the runtime folds a large dispatch.

import { WGSL_LINEAR_WORKGROUP, type Gpu, type Kernel } from '../../src/runtime/index.js';

/** y[i] = x[i] * 2 + 1 over f32, bounded by arrayLength so it works on split bindings. */
export const AFFINE_F32 = /* wgsl */ `
${WGSL_LINEAR_WORKGROUP}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * 64u + lid;
  if (i >= arrayLength(&y)) { return; }
  y[i] = x[i] * 2.0 + 1.0;
}`;

/** y[i] = x[i] ^ 0x5a5a5a5a + i over u32. */
export const MIX_U32 = /* wgsl */ `
${WGSL_LINEAR_WORKGROUP}
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * 64u + lid;
  if (i >= arrayLength(&y)) { return; }
  y[i] = (x[i] ^ 0x5a5a5a5au) + i;
}`;

/** y[i] = i + 1: each element records its global index, so a skipped one stays 0. */
export const IOTA_U32 = /* wgsl */ `
${WGSL_LINEAR_WORKGROUP}
@group(0) @binding(0) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * 64u + lid;
  if (i >= arrayLength(&y)) { return; }
  y[i] = i + 1u;
}`;

export function affineF32(gpu: Gpu): Promise<Kernel> {
  return gpu.kernel({
    name: 'affine_f32',
    source: AFFINE_F32,
    bindings: ['read-only-storage', 'storage'],
  });
}

export function mixU32(gpu: Gpu): Promise<Kernel> {
  return gpu.kernel({
    name: 'mix_u32',
    source: MIX_U32,
    bindings: ['read-only-storage', 'storage'],
  });
}

export function iotaU32(gpu: Gpu): Promise<Kernel> {
  return gpu.kernel({ name: 'iota_u32', source: IOTA_U32, bindings: ['storage'] });
}

/** Spins for a while per invocation, so the device can be lost while it runs. */
export const BUSY_LOOP = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  var h = id.x;
  for (var k = 0u; k < 200000u; k++) { h = h * 1664525u + 1013904223u; }
  y[id.x] = h;
}`;
