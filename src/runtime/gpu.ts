// An acquired device with what every part of the engine shares: its limits and features, the
// pipeline cache, the buffer pool, uploads and readbacks, and the conversion of WebGPU's
// asynchronous failures (validation errors, device loss) into thrown errors.

import { GpuError, GpuLimitError } from '../errors.js';
import { createLogger } from '../log.js';
import { BufferPool } from './buffer-pool.js';
import { BufferUsage, MapMode, STORAGE_USAGE } from './flags.js';
import type { BufferBinding, Kernel, KernelSpec } from './kernel.js';
import { PipelineCache } from './pipeline-cache.js';
import { Program } from './program.js';

const log = createLogger('runtime');

export class Gpu {
  readonly pipelines: PipelineCache;
  readonly buffers: BufferPool;
  /** Rejects once the device is lost or destroyed; every wait on the GPU races it. */
  readonly lost: Promise<never>;
  private lostError: GpuError | undefined;
  /** The last submitted work, named in the loss error, e.g. "program 'step' (conv3d, relu)". */
  private lastSubmitted = 'nothing submitted yet';
  private uncaptured: GpuError | undefined;
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: GPUAdapterInfo,
  ) {
    this.pipelines = new PipelineCache(device);
    this.buffers = new BufferPool(device);
    this.lost = device.lost.then((info) => {
      const reason = this.destroyed && info.reason === 'destroyed' ? 'destroyed' : info.reason;
      this.lostError = new GpuError(
        `The WebGPU device was lost (${reason}) after ${this.lastSubmitted}: ${info.message}`,
      );
      throw this.lostError;
    });
    // Keep the rejection from being reported as unhandled when nobody is waiting.
    this.lost.catch(() => undefined);
    device.onuncapturederror = (event) => {
      const error = new GpuError(`WebGPU error: ${event.error.message}`);
      log.error(error.message);
      this.uncaptured ??= error;
    };
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  hasFeature(feature: string): boolean {
    return this.device.features.has(feature);
  }

  /** Throws the first uncaptured WebGPU error or the device loss, if any happened. */
  checkErrors(): void {
    if (this.lostError) throw this.lostError;
    if (this.destroyed) {
      throw new GpuError('The WebGPU device was destroyed. Acquire a new one with acquireGpu().');
    }
    const error = this.uncaptured;
    if (error) {
      this.uncaptured = undefined;
      throw error;
    }
  }

  /** Records what was just submitted, so that a device loss can name it. */
  noteSubmit(description: string): void {
    this.lastSubmitted = description;
  }

  /** Waits for `promise` unless the device is lost first, then throws the loss. */
  async guard<T>(promise: Promise<T>): Promise<T> {
    const value = await Promise.race([promise, this.lost]);
    this.checkErrors();
    return value;
  }

  /** Rejects a binding of `byteLength` bytes that exceeds maxStorageBufferBindingSize. */
  checkBindingSize(label: string, byteLength: number): void {
    const limit = this.limits.maxStorageBufferBindingSize;
    if (byteLength > limit) {
      throw new GpuLimitError(
        `Tensor '${label}' needs ${byteLength} bytes in one binding, more than this adapter's ` +
          `maxStorageBufferBindingSize of ${limit} bytes. Use a smaller batch, patches or a ` +
          'smaller input shape; element-wise work can be split with elementwiseDispatches().',
      );
    }
  }

  /** Rejects a uniform binding of `byteLength` bytes that exceeds maxUniformBufferBindingSize. */
  checkUniformSize(label: string, byteLength: number): void {
    const limit = this.limits.maxUniformBufferBindingSize;
    if (byteLength > limit) {
      throw new GpuLimitError(
        `Uniform buffer '${label}' binds ${byteLength} bytes, more than this adapter's ` +
          `maxUniformBufferBindingSize of ${limit} bytes. Bind it as storage instead.`,
      );
    }
  }

  createBuffer(label: string, byteLength: number, usage: number = STORAGE_USAGE): GPUBuffer {
    if (byteLength > this.limits.maxBufferSize) {
      throw new GpuLimitError(
        `Buffer '${label}' needs ${byteLength} bytes, more than this adapter's maxBufferSize ` +
          `of ${this.limits.maxBufferSize} bytes.`,
      );
    }
    const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
    return this.device.createBuffer({ label, size, usage });
  }

  /** Creates a storage buffer holding `data`. */
  upload(label: string, data: ArrayBufferView): GPUBuffer {
    const buffer = this.createBuffer(label, data.byteLength);
    this.write(buffer, data);
    return buffer;
  }

  write(buffer: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    const padded = data.byteLength % 4 === 0 ? data : padToFour(data);
    this.device.queue.writeBuffer(
      buffer,
      byteOffset,
      padded.buffer,
      padded.byteOffset,
      padded.byteLength,
    );
  }

  /** Copies `byteLength` bytes of `buffer` from `byteOffset` back to the CPU. */
  async read(buffer: GPUBuffer, byteLength = buffer.size, byteOffset = 0): Promise<ArrayBuffer> {
    const size = Math.ceil(byteLength / 4) * 4;
    const staging = this.buffers.acquire(
      size,
      BufferUsage.MAP_READ | BufferUsage.COPY_DST,
      'readback',
    );
    const encoder = this.device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(buffer, byteOffset, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    try {
      await this.guard(staging.mapAsync(MapMode.READ, 0, size));
      const copy = staging.getMappedRange(0, size).slice(0, byteLength);
      staging.unmap();
      return copy;
    } finally {
      if (staging.mapState === 'unmapped') this.buffers.release(staging);
    }
  }

  async readF32(buffer: GPUBuffer, length?: number): Promise<Float32Array> {
    const bytes = length === undefined ? buffer.size : length * 4;
    return new Float32Array(await this.read(buffer, bytes));
  }

  async readU32(buffer: GPUBuffer, length?: number): Promise<Uint32Array> {
    const bytes = length === undefined ? buffer.size : length * 4;
    return new Uint32Array(await this.read(buffer, bytes));
  }

  /** Compiles (or fetches from the cache) the pipeline of `spec`. */
  kernel(spec: KernelSpec): Promise<Kernel> {
    return this.guard(this.pipelines.get(spec));
  }

  /** Runs one kernel once and waits for it: a convenience for tests and one-off work. */
  async run(kernel: Kernel, bindings: BufferBinding[], workgroups: number): Promise<void> {
    const program = new Program(this, kernel.spec.name, [{ kernel, bindings, workgroups }]);
    program.submit();
    await this.sync();
  }

  /** Waits until the queue has finished all submitted work. */
  async sync(): Promise<void> {
    await this.guard(this.device.queue.onSubmittedWorkDone());
  }

  /** Destroys the device; Dawn's Node binding keeps the process alive until this is called. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.buffers.trim();
    this.device.destroy();
  }
}

function padToFour(data: ArrayBufferView): Uint8Array {
  const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return padded;
}
