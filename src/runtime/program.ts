// A Program is a recorded list of dispatches with their bind groups, built once and encoded
// into one command buffer per submit: a training step or an inference batch. Nothing is
// allocated per submit except the command buffer itself. WebGPU cannot resubmit a command
// buffer, so "replay" means re-encoding pre-built pipelines and bind groups in a tight loop.

import { GpuError, GpuLimitError } from '../errors.js';
import { BufferUsage, MapMode } from './flags.js';
import type { Gpu } from './gpu.js';
import { foldWorkgroups, type BindingKind, type BufferBinding, type Kernel } from './kernel.js';
import type { Profiler } from './profiler.js';

export interface Dispatch {
  kernel: Kernel;
  /** One buffer per binding of the kernel, in @binding order. */
  bindings: BufferBinding[];
  /** Linear workgroup count, folded into a 2D/3D grid when it exceeds the per-axis limit. */
  workgroups: number;
  /** Floating-point operations of this dispatch, for the profiler's GFLOP/s. */
  flops?: number;
  /** Bytes read plus written, for the profiler's GB/s. */
  bytes?: number;
}

interface RecordedDispatch {
  name: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid: [number, number, number];
  flops: number;
  bytes: number;
}

export class Program {
  readonly dispatches: readonly RecordedDispatch[];
  /** Names the program and its kernels in errors, e.g. "program 'step' (conv3d, relu)". */
  readonly description: string;

  constructor(
    private readonly gpu: Gpu,
    readonly name: string,
    dispatches: Dispatch[],
  ) {
    this.dispatches = dispatches.map((dispatch, index) =>
      recordDispatch(gpu, name, dispatch, index),
    );
    const kernels = [...new Set(this.dispatches.map((dispatch) => dispatch.name))];
    this.description = `program '${name}' (${kernels.join(', ')})`;
  }

  /** Encodes every dispatch: one compute pass, or one pass per dispatch when profiling. */
  encode(encoder: GPUCommandEncoder, profiler?: Profiler): void {
    if (profiler?.usesTimestamps) {
      this.dispatches.forEach((dispatch, index) => {
        const pass = encoder.beginComputePass({
          label: dispatch.name,
          timestampWrites: profiler.timestampWrites(index),
        });
        encodeDispatch(pass, dispatch);
        pass.end();
      });
      return;
    }
    const pass = encoder.beginComputePass({ label: this.name });
    for (const dispatch of this.dispatches) encodeDispatch(pass, dispatch);
    pass.end();
  }

  /**
   * Encodes the program and the given readback copies into one command buffer and submits
   * it. Returns at once; each readback's promise resolves when its copy is mapped, so the
   * caller can encode the next step before the previous one's results arrive.
   */
  submit(readbacks: Readback[] = [], profiler?: Profiler): Promise<ArrayBuffer>[] {
    this.gpu.checkErrors();
    profiler?.begin(this);
    const encoder = this.gpu.device.createCommandEncoder({ label: this.name });
    this.encode(encoder, profiler);
    const pending = readbacks.map((readback) => readback.encodeCopy(encoder));
    profiler?.encodeResolve(encoder);
    this.gpu.device.queue.submit([encoder.finish()]);
    this.gpu.noteSubmit(this.description);
    profiler?.end(this);
    return pending.map((finish) => finish());
  }
}

function recordDispatch(
  gpu: Gpu,
  program: string,
  dispatch: Dispatch,
  index: number,
): RecordedDispatch {
  const { kernel } = dispatch;
  const where = `Program '${program}', dispatch ${index} (${kernel.spec.name})`;
  if (dispatch.bindings.length !== kernel.spec.bindings.length) {
    throw new GpuError(
      `${where}: ${dispatch.bindings.length} buffers given for ${kernel.spec.bindings.length} bindings.`,
    );
  }
  const entries = dispatch.bindings.map((binding, slot): GPUBindGroupEntry => {
    const resource = 'buffer' in binding ? binding : { buffer: binding };
    checkBinding(gpu, kernel.spec.bindings[slot]!, resource);
    return { binding: slot, resource };
  });
  const grid = foldWorkgroups(dispatch.workgroups, gpu.limits.maxComputeWorkgroupsPerDimension);
  if ((grid[1] > 1 || grid[2] > 1) && !kernel.spec.source.includes('linear_workgroup(')) {
    throw new GpuLimitError(
      `${where} needs ${dispatch.workgroups} workgroups, more than this adapter's ` +
        `maxComputeWorkgroupsPerDimension of ${gpu.limits.maxComputeWorkgroupsPerDimension}, ` +
        'but its WGSL does not call linear_workgroup(), so a folded 2D/3D grid would skip ' +
        'work. Index workgroups through WGSL_LINEAR_WORKGROUP, or dispatch fewer.',
    );
  }
  return {
    name: kernel.spec.name,
    pipeline: kernel.pipeline,
    bindGroup: gpu.device.createBindGroup({
      label: kernel.spec.name,
      layout: kernel.layout,
      entries,
    }),
    grid,
    flops: dispatch.flops ?? 0,
    bytes: dispatch.bytes ?? 0,
  };
}

/** Rejects a bound range that is misaligned or larger than its binding kind allows. */
function checkBinding(gpu: Gpu, kind: BindingKind, binding: GPUBufferBinding): void {
  const offset = binding.offset ?? 0;
  const byteLength = binding.size ?? binding.buffer.size - offset;
  const label = binding.buffer.label || 'unlabelled buffer';
  const alignment =
    kind === 'uniform'
      ? gpu.limits.minUniformBufferOffsetAlignment
      : gpu.limits.minStorageBufferOffsetAlignment;
  if (offset % alignment !== 0) {
    throw new GpuError(
      `Buffer '${label}' is bound at byte offset ${offset}, which is not a multiple of this ` +
        `adapter's ${kind === 'uniform' ? 'minUniform' : 'minStorage'}BufferOffsetAlignment ` +
        `of ${alignment}. Align the offset, or bind a separate buffer.`,
    );
  }
  if (kind === 'uniform') gpu.checkUniformSize(label, byteLength);
  else gpu.checkBindingSize(label, byteLength);
}

function encodeDispatch(pass: GPUComputePassEncoder, dispatch: RecordedDispatch): void {
  pass.setPipeline(dispatch.pipeline);
  pass.setBindGroup(0, dispatch.bindGroup);
  pass.dispatchWorkgroups(dispatch.grid[0], dispatch.grid[1], dispatch.grid[2]);
}

/**
 * Copies a byte range of a buffer back to the CPU after each submit, through a ring of
 * staging buffers so that a copy still being mapped never blocks the next step's encoding.
 */
export class Readback {
  private readonly free: GPUBuffer[] = [];
  private readonly size: number;

  constructor(
    private readonly gpu: Gpu,
    readonly label: string,
    private readonly source: GPUBuffer,
    readonly byteLength: number,
    private readonly byteOffset = 0,
  ) {
    this.size = Math.ceil(byteLength / 4) * 4;
  }

  /** Encodes the copy; the returned function, called after submit, maps the result. */
  encodeCopy(encoder: GPUCommandEncoder): () => Promise<ArrayBuffer> {
    const staging =
      this.free.pop() ??
      this.gpu.device.createBuffer({
        label: `${this.label} readback`,
        size: this.size,
        usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
      });
    encoder.copyBufferToBuffer(this.source, this.byteOffset, staging, 0, this.size);
    return async () => {
      await this.gpu.guard(staging.mapAsync(MapMode.READ, 0, this.size));
      const copy = staging.getMappedRange(0, this.size).slice(0, this.byteLength);
      staging.unmap();
      this.free.push(staging);
      return copy;
    };
  }

  destroy(): void {
    for (const buffer of this.free) buffer.destroy();
    this.free.length = 0;
  }
}
