// What a compute kernel is to the runtime: specialised WGSL with one entry point `main`, the
// kinds of its bindings (all in @group(0), in @binding order), and how to size its dispatch.

/** How a kernel binds a buffer; 'read-only-storage' lets the driver skip write hazards. */
export type BindingKind = 'read-only-storage' | 'storage' | 'uniform';

export interface KernelSpec {
  /** Names the kernel in errors, logs and profiles, e.g. 'conv3d_fwd'. */
  name: string;
  /** Fully specialised WGSL; the pipeline cache keys on it. */
  source: string;
  /** One entry per @binding of @group(0), in order. */
  bindings: BindingKind[];
}

export interface Kernel {
  readonly spec: KernelSpec;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/**
 * A buffer bound whole, or a byte range of it. Offsets are multiples of the device's
 * minStorageBufferOffsetAlignment (minUniformBufferOffsetAlignment for uniforms).
 */
export type BufferBinding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

/**
 * Folds a linear workgroup count into a grid whose every side is at most `maxPerDimension`.
 * The product may exceed `count`: kernels compute their linear workgroup index with
 * WGSL_LINEAR_WORKGROUP and return early past their last workgroup.
 */
export function foldWorkgroups(count: number, maxPerDimension: number): [number, number, number] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Workgroup count must be a non-negative integer, got ${count}.`);
  }
  if (count <= maxPerDimension) return [count, 1, 1];
  const y = Math.ceil(count / maxPerDimension);
  if (y <= maxPerDimension) return [Math.ceil(count / y), y, 1];
  const z = Math.ceil(count / (maxPerDimension * maxPerDimension));
  if (z > maxPerDimension) {
    throw new RangeError(
      `Workgroup count ${count} exceeds maxComputeWorkgroupsPerDimension^3 (${maxPerDimension}^3).`,
    );
  }
  const perSlice = Math.ceil(count / z);
  const y2 = Math.ceil(perSlice / maxPerDimension);
  return [Math.ceil(perSlice / y2), y2, z];
}

/**
 * WGSL helper that recovers the linear workgroup index from a folded grid. Kernels that take
 * a linear count declare `@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg:
 * vec3u` and call `linear_workgroup(wid, nwg)`.
 */
export const WGSL_LINEAR_WORKGROUP = /* wgsl */ `
fn linear_workgroup(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
}
`;
