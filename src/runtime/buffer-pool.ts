// Reuses GPU buffers by exact (size, usage). The memory planner allocates a program's buffers
// once; the pool serves one-off work (uploads, tests, inference of changing sizes) without a
// createBuffer per call.

import { STORAGE_USAGE } from './flags.js';

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private live = 0;
  private liveBytes = 0;
  private peakBytes = 0;

  constructor(private readonly device: GPUDevice) {}

  /** Bytes currently handed out, and the most ever handed out at once. */
  get stats(): { liveBuffers: number; liveBytes: number; peakBytes: number } {
    return { liveBuffers: this.live, liveBytes: this.liveBytes, peakBytes: this.peakBytes };
  }

  acquire(byteLength: number, usage: number = STORAGE_USAGE, label = 'pooled'): GPUBuffer {
    // WebGPU requires sizes that are multiples of 4 for mapped and copied buffers.
    const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
    const key = `${usage}:${size}`;
    const buffer = this.free.get(key)?.pop() ?? this.device.createBuffer({ label, size, usage });
    this.live += 1;
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const key = `${buffer.usage}:${buffer.size}`;
    const list = this.free.get(key) ?? [];
    list.push(buffer);
    this.free.set(key, list);
    this.live -= 1;
    this.liveBytes -= buffer.size;
  }

  /** Destroys the pooled (released) buffers; buffers still handed out stay valid. */
  trim(): void {
    for (const list of this.free.values()) for (const buffer of list) buffer.destroy();
    this.free.clear();
  }
}
