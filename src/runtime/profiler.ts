// Per-kernel timing. With the 'timestamp-query' feature each dispatch gets its own compute
// pass with begin/end timestamps; without it, the CPU measures each submit from submission to
// onSubmittedWorkDone and charges the whole program. Either way the table reports calls,
// milliseconds, GFLOP/s and GB/s from the work each dispatch declares.

import { GpuLimitError } from '../errors.js';
import { BufferUsage, MapMode } from './flags.js';
import type { Gpu } from './gpu.js';
import type { Program } from './program.js';

const MAX_QUERIES = 4096;

export interface KernelTiming {
  name: string;
  calls: number;
  milliseconds: number;
  flops: number;
  bytes: number;
}

export class Profiler {
  readonly usesTimestamps: boolean;
  private readonly timings = new Map<string, KernelTiming>();
  private readonly pending: Promise<void>[] = [];
  private querySet: GPUQuerySet | undefined;
  private capacity = 0;
  private resolveBuffer: GPUBuffer | undefined;
  private current: Program | undefined;
  private cpuStart = 0;

  constructor(
    private readonly gpu: Gpu,
    options: { timestamps?: boolean } = {},
  ) {
    this.usesTimestamps = (options.timestamps ?? true) && gpu.hasFeature('timestamp-query');
  }

  begin(program: Program): void {
    this.current = program;
    if (!this.usesTimestamps) {
      this.cpuStart = performance.now();
      return;
    }
    const needed = program.dispatches.length * 2;
    // WebGPU caps a query set at 4096 queries: two per dispatch.
    if (needed > MAX_QUERIES) {
      throw new GpuLimitError(
        `Program '${program.name}' has ${program.dispatches.length} dispatches, more than the ` +
          `${MAX_QUERIES / 2} that timestamp queries can time in one submit. Profile it with ` +
          '{ timestamps: false } for CPU timing per submit.',
      );
    }
    if (needed > this.capacity) {
      this.querySet?.destroy();
      this.resolveBuffer?.destroy();
      this.capacity = needed;
      this.querySet = this.gpu.device.createQuerySet({ type: 'timestamp', count: needed });
      this.resolveBuffer = this.gpu.device.createBuffer({
        label: 'timestamps',
        size: needed * 8,
        usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC,
      });
    }
  }

  timestampWrites(index: number): GPUComputePassTimestampWrites {
    return {
      querySet: this.querySet!,
      beginningOfPassWriteIndex: index * 2,
      endOfPassWriteIndex: index * 2 + 1,
    };
  }

  encodeResolve(encoder: GPUCommandEncoder): void {
    if (!this.usesTimestamps || !this.current) return;
    const count = this.current.dispatches.length * 2;
    encoder.resolveQuerySet(this.querySet!, 0, count, this.resolveBuffer!, 0);
    // Pooled, so that profiling a training loop allocates no buffer per step.
    const usage = BufferUsage.MAP_READ | BufferUsage.COPY_DST;
    const staging = this.gpu.buffers.acquire(count * 8, usage, 'timestamps readback');
    encoder.copyBufferToBuffer(this.resolveBuffer!, 0, staging, 0, count * 8);
    const program = this.current;
    this.pending.push(
      (async () => {
        // Mapping is requested after submit: end() runs before this promise is awaited.
        await Promise.resolve();
        await this.gpu.guard(staging.mapAsync(MapMode.READ));
        const stamps = new BigUint64Array(staging.getMappedRange().slice(0));
        staging.unmap();
        this.gpu.buffers.release(staging);
        program.dispatches.forEach((dispatch, index) => {
          const nanoseconds = Number(stamps[index * 2 + 1]! - stamps[index * 2]!);
          this.add(dispatch.name, Math.max(0, nanoseconds) / 1e6, dispatch.flops, dispatch.bytes);
        });
      })(),
    );
  }

  end(program: Program): void {
    if (this.usesTimestamps) return;
    const start = this.cpuStart;
    this.pending.push(
      this.gpu.sync().then(() => {
        const flops = program.dispatches.reduce((sum, dispatch) => sum + dispatch.flops, 0);
        const bytes = program.dispatches.reduce((sum, dispatch) => sum + dispatch.bytes, 0);
        this.add(program.name, performance.now() - start, flops, bytes);
      }),
    );
  }

  /** Waits for all outstanding measurements and returns them, slowest first. */
  async results(): Promise<KernelTiming[]> {
    await Promise.all(this.pending.splice(0));
    return [...this.timings.values()].sort((a, b) => b.milliseconds - a.milliseconds);
  }

  /** Formats the results as a text table: calls, milliseconds, GFLOP/s and GB/s per kernel. */
  async table(): Promise<string> {
    const rows = await this.results();
    const nameWidth = Math.max(6, ...rows.map((row) => row.name.length));
    const header = formatRow(nameWidth, ['kernel', 'calls', 'ms', 'GFLOP/s', 'GB/s']);
    const lines = rows.map((row) => {
      const seconds = row.milliseconds / 1e3;
      const gflops = seconds > 0 && row.flops > 0 ? (row.flops / seconds / 1e9).toFixed(2) : '-';
      const gbytes = seconds > 0 && row.bytes > 0 ? (row.bytes / seconds / 1e9).toFixed(2) : '-';
      const cells = [row.name, String(row.calls), row.milliseconds.toFixed(3), gflops, gbytes];
      return formatRow(nameWidth, cells);
    });
    return [header, ...lines].join('\n');
  }

  private add(name: string, milliseconds: number, flops: number, bytes: number): void {
    const timing = this.timings.get(name) ?? {
      name,
      calls: 0,
      milliseconds: 0,
      flops: 0,
      bytes: 0,
    };
    timing.calls += 1;
    timing.milliseconds += milliseconds;
    timing.flops += flops;
    timing.bytes += bytes;
    this.timings.set(name, timing);
  }
}

const COLUMN_WIDTHS = [6, 10, 9, 8];

function formatRow(nameWidth: number, [name, ...numbers]: string[]): string {
  const cells = numbers.map((cell, index) => cell.padStart(COLUMN_WIDTHS[index]!));
  return [name!.padEnd(nameWidth), ...cells].join(' ');
}
