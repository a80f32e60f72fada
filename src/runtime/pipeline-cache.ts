// Compiled pipelines keyed by their specialised WGSL source, created asynchronously so a
// program compiles all its kernels in parallel before the first step.

import { GpuError } from '../errors.js';
import { createLogger, isLogEnabled } from '../log.js';
import { ShaderStage } from './flags.js';
import type { BindingKind, Kernel, KernelSpec } from './kernel.js';

const log = createLogger('kernels');

const BUFFER_TYPE: Record<BindingKind, GPUBufferBindingType> = {
  'read-only-storage': 'read-only-storage',
  storage: 'storage',
  uniform: 'uniform',
};

/** Formats the first WGSL compilation error with the kernel name, line and source line. */
function describeCompileError(
  spec: KernelSpec,
  messages: readonly GPUCompilationMessage[],
): string {
  const errors = messages.filter((message) => message.type === 'error');
  const lines = spec.source.split('\n');
  const details = errors.slice(0, 3).map((message) => {
    const sourceLine = lines[message.lineNum - 1] ?? '';
    const caret = ' '.repeat(Math.max(0, message.linePos - 1)) + '^';
    return `  line ${message.lineNum}:${message.linePos}: ${message.message}\n    ${sourceLine}\n    ${caret}`;
  });
  return `WGSL compilation of kernel '${spec.name}' failed:\n${details.join('\n')}`;
}

export class PipelineCache {
  private readonly kernels = new Map<string, Promise<Kernel>>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.kernels.size;
  }

  /** Returns the compiled kernel for `spec`, compiling it once per distinct source. */
  get(spec: KernelSpec): Promise<Kernel> {
    const key = `${spec.bindings.join(',')}\n${spec.source}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.compile(spec);
      this.kernels.set(key, kernel);
      // A failed compilation is not cached, so a corrected retry is possible.
      kernel.catch(() => this.kernels.delete(key));
    }
    return kernel;
  }

  private async compile(spec: KernelSpec): Promise<Kernel> {
    if (isLogEnabled('wgsl')) log.wgsl(spec.name, spec.source);
    // The scope keeps a shader error from also reaching onuncapturederror as a stale error.
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label: spec.name, code: spec.source });
    const scopeError = this.device.popErrorScope();
    const info = await module.getCompilationInfo();
    await scopeError;
    if (info.messages.some((message) => message.type === 'error')) {
      throw new GpuError(describeCompileError(spec, info.messages));
    }
    const layout = this.device.createBindGroupLayout({
      label: spec.name,
      entries: spec.bindings.map((kind, binding) => ({
        binding,
        visibility: ShaderStage.COMPUTE,
        buffer: { type: BUFFER_TYPE[kind] },
      })),
    });
    try {
      const pipeline = await this.device.createComputePipelineAsync({
        label: spec.name,
        layout: this.device.createPipelineLayout({ label: spec.name, bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
      });
      return { spec, pipeline, layout };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new GpuError(`Pipeline creation for kernel '${spec.name}' failed: ${message}`);
    }
  }
}
