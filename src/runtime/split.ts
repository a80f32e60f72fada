// Splitting of element-wise work over tensors larger than maxStorageBufferBindingSize (128 MiB
// on lavapipe). A buffer may be larger than one binding allows (maxBufferSize), so such a
// tensor stays one buffer and each dispatch binds a range of it.

import { GpuLimitError } from '../errors.js';
import type { Gpu } from './gpu.js';
import type { Kernel } from './kernel.js';
import type { Dispatch } from './program.js';

/** One tensor of an element-wise op: every operand has the same number of elements. */
export interface ElementwiseOperand {
  buffer: GPUBuffer;
  /** Bytes per element: 4 for f32, u32 and i32, 2 for f16. */
  bytesPerElement: number;
}

export interface ElementwiseWork {
  kernel: Kernel;
  /** One operand per binding of the kernel, in @binding order. */
  operands: ElementwiseOperand[];
  elementCount: number;
  /** Elements one workgroup covers, usually its workgroup size. */
  elementsPerWorkgroup: number;
  /** Floating-point operations per element, for the profiler. */
  flopsPerElement?: number;
}

/** A range of elements [start, start + count) that one dispatch covers. */
export interface ElementRange {
  start: number;
  count: number;
}

/**
 * Splits `elementCount` elements into ranges whose every operand's bytes fit in
 * `maxBindingBytes`, with each range's start aligned so every operand's byte offset is a
 * multiple of `offsetAlignment`.
 */
export function splitElements(
  elementCount: number,
  bytesPerElement: number[],
  maxBindingBytes: number,
  offsetAlignment: number,
): ElementRange[] {
  if (!Number.isInteger(elementCount) || elementCount < 0) {
    throw new RangeError(`Element count must be a non-negative integer, got ${elementCount}.`);
  }
  const widest = Math.max(...bytesPerElement);
  // A start that is a multiple of offsetAlignment elements gives aligned offsets for any width.
  const step = Math.floor(maxBindingBytes / widest / offsetAlignment) * offsetAlignment;
  if (step <= 0) {
    throw new GpuLimitError(
      `An element of ${widest} bytes cannot be split into bindings of at most ` +
        `${maxBindingBytes} bytes aligned to ${offsetAlignment} bytes.`,
    );
  }
  const ranges: ElementRange[] = [];
  for (let start = 0; start < elementCount; start += step) {
    ranges.push({ start, count: Math.min(step, elementCount - start) });
  }
  return ranges;
}

/**
 * Builds the dispatches of an element-wise op, one per range of elements that fits the
 * adapter's binding limit: a single dispatch when all of the work fits.
 *
 * Each dispatch binds the range's bytes of every operand, so the kernel must take its element
 * count from `arrayLength()` of a binding rather than from a constant baked into its source.
 * With 2-byte elements and an odd count, that length includes one element of padding.
 */
export function elementwiseDispatches(gpu: Gpu, work: ElementwiseWork): Dispatch[] {
  const { kernel, operands, elementCount, elementsPerWorkgroup } = work;
  for (const operand of operands) {
    const needed = elementCount * operand.bytesPerElement;
    if (operand.buffer.size < needed) {
      throw new GpuLimitError(
        `Buffer '${operand.buffer.label}' has ${operand.buffer.size} bytes, fewer than the ` +
          `${needed} bytes of ${elementCount} elements of ${operand.bytesPerElement} bytes.`,
      );
    }
  }
  const ranges = splitElements(
    elementCount,
    operands.map((operand) => operand.bytesPerElement),
    gpu.limits.maxStorageBufferBindingSize,
    gpu.limits.minStorageBufferOffsetAlignment,
  );
  const bytesPerElement = operands.reduce((sum, operand) => sum + operand.bytesPerElement, 0);
  return ranges.map(({ start, count }) => ({
    kernel,
    bindings: operands.map(({ buffer, bytesPerElement: width }) => {
      const offset = start * width;
      // Storage bindings are multiples of 4 bytes; createBuffer pads every buffer to 4 bytes.
      const size = Math.min(Math.ceil((count * width) / 4) * 4, buffer.size - offset);
      return { buffer, offset, size };
    }),
    workgroups: Math.ceil(count / elementsPerWorkgroup),
    flops: count * (work.flopsPerElement ?? 0),
    bytes: count * bytesPerElement,
  }));
}
