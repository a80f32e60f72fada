// Shape arithmetic and limit checks shared by the element-wise, reduction, pooling,
// normalisation, loss and optimizer planners.

import { GpuLimitError, UserError } from '../errors.js';
import { wgslNumber } from './template.js';

export type { KernelPlan } from './plan.js';

export type Shape = readonly number[];

/** The adapter limits a planner checks its bindings against. */
export type PlanLimits = Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize'>;

/** Element counts at or above 2^32 overflow the kernels' u32 index arithmetic. */
const MAX_ELEMENTS = 2 ** 32;

export function numel(shape: Shape): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** Strides of PyTorch's contiguous (row-major) layout. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let axis = shape.length - 2; axis >= 0; axis--) {
    strides[axis] = strides[axis + 1]! * shape[axis + 1]!;
  }
  return strides;
}

/** Rejects a shape whose sizes are not positive integers. */
export function checkShape(name: string, shape: Shape): void {
  if (shape.length === 0 || shape.some((size) => !Number.isInteger(size) || size < 1)) {
    throw new UserError(
      `Shape of '${name}' must be a non-empty list of positive integers, got ` +
        `[${shape.join(', ')}].`,
    );
  }
}

/** Advice for a layer's weight over the binding limit, which the input size does not change. */
export const WEIGHT_ADVICE = 'Use fewer channels or a smaller kernel in this layer.';

/**
 * Rejects a tensor of `elements` f32 values (or u32 indices) that the kernels cannot index
 * with u32 arithmetic or bind in one storage binding. `advice` ends the message.
 */
export function checkTensor(
  limits: PlanLimits,
  name: string,
  elements: number,
  advice = 'Use a smaller batch, patches, or a smaller input shape.',
): void {
  if (elements >= MAX_ELEMENTS) {
    throw new GpuLimitError(
      `Tensor '${name}' has ${elements} elements; kernels index with u32 and accept fewer ` +
        `than 2^32. ${advice}`,
    );
  }
  const bytes = elements * 4;
  if (bytes > limits.maxStorageBufferBindingSize) {
    throw new GpuLimitError(
      `Tensor '${name}' needs ${bytes} bytes in one binding, more than this adapter's ` +
        `maxStorageBufferBindingSize of ${limits.maxStorageBufferBindingSize} bytes. ${advice}`,
    );
  }
}

/** Rejects a hyper-parameter that is not a finite number in [min, max]. */
export function checkRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UserError(`${name} must be a number in [${min}, ${max}], got ${value}.`);
  }
}

export function u32(value: number): string {
  return wgslNumber(value, 'u32');
}

export function f32(value: number): string {
  return wgslNumber(value, 'f32');
}

/** Writes a WGSL `array<u32, n>(...)` constant expression. */
export function u32Array(values: readonly number[]): string {
  return `array<u32, ${values.length}>(${values.map(u32).join(', ')})`;
}

/**
 * Returns the WGSL value type of an element-wise kernel over `elements` values and how many
 * of them there are: vec4f (one 16-byte access per thread) when the count is a multiple of 4,
 * else f32.
 */
export function vectorLayout(elements: number): { type: 'vec4f' | 'f32'; count: number } {
  return elements % 4 === 0
    ? { type: 'vec4f', count: elements / 4 }
    : { type: 'f32', count: elements };
}

/** Axes the index arithmetic of the strided kernels unrolls over. */
export const MAX_RANK = 6;

/**
 * Pads a per-axis list to MAX_RANK entries with `fill` in front, for the kernels whose index
 * arithmetic is unrolled over MAX_RANK axes. Throws when there are more axes.
 */
export function padAxes(values: readonly number[], fill: number, what: string): number[] {
  if (values.length > MAX_RANK) {
    throw new UserError(
      `${what} has ${values.length} axes after merging contiguous ones; kernels accept at most ` +
        `${MAX_RANK}. Reshape the tensor to fewer axes.`,
    );
  }
  return [...new Array<number>(MAX_RANK - values.length).fill(fill), ...values];
}
