export { acquireGpu, describeAdapter, type AcquireOptions } from './device.js';
export { BufferUsage, STORAGE_USAGE } from './flags.js';
export { Gpu } from './gpu.js';
export {
  foldWorkgroups,
  WGSL_LINEAR_WORKGROUP,
  type BindingKind,
  type BufferBinding,
  type Kernel,
  type KernelSpec,
} from './kernel.js';
export { Profiler, type KernelTiming } from './profiler.js';
export { Program, Readback, type Dispatch } from './program.js';
export {
  elementwiseDispatches,
  splitElements,
  type ElementRange,
  type ElementwiseOperand,
  type ElementwiseWork,
} from './split.js';
