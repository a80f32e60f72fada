// Plans sum, mean and max over chosen axes with shaders/reduce.wgsl: one workgroup per output
// element and a fixed-order tree, so results are deterministic.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import template from '../../shaders/reduce.wgsl';
import {
  checkShape,
  checkTensor,
  contiguousStrides,
  f32,
  numel,
  padAxes,
  u32,
  u32Array,
  type KernelPlan,
  type PlanLimits,
  type Shape,
} from './common.js';
import { planElementwise } from './elementwise.js';
import { specialize } from './template.js';

export type ReduceOp = 'sum' | 'mean' | 'max';

export interface ReduceGeometry {
  shape: Shape;
  /** Axes to reduce, each in [-rank, rank); negative counts from the end. */
  axes: readonly number[];
  op: ReduceOp;
}

const OPS: Record<ReduceOp, { combine: string; identity: string }> = {
  sum: { combine: 'a + b', identity: '0.0' },
  mean: { combine: 'a + b', identity: '0.0' },
  // -3.4028235e38 is the lowest finite f32: max over real values never returns it.
  max: { combine: 'max(a, b)', identity: '-3.4028234663852886e38' },
};

/** Input and output offsets of a reduction, and the factor that scales its results. */
export interface ReduceLayout {
  /** First input element read: the input is the bound tensor from there on. Default 0. */
  inBase?: number;
  /** First output element written; a split reduction's partial results share a scratch. */
  outBase?: number;
  /** Factor applied to every result. Default: 1 / the reduced count for mean, else 1. */
  scale?: number;
}

/** Returns the sorted, non-negative, distinct axes, or throws naming the bad one. */
export function normalizeAxes(axes: readonly number[], rank: number): number[] {
  const seen = new Set<number>();
  for (const axis of axes) {
    if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
      throw new UserError(`Axis ${axis} is out of range for a tensor of rank ${rank}.`);
    }
    const positive = axis < 0 ? axis + rank : axis;
    if (seen.has(positive))
      throw new UserError(`Axis ${axis} is repeated in [${axes.join(', ')}].`);
    seen.add(positive);
  }
  return [...seen].sort((a, b) => a - b);
}

/** Groups neighbouring axes of one kind (kept or reduced) into single axes. */
function groupAxes(shape: Shape, reduced: Set<number>) {
  const strides = contiguousStrides(shape);
  const kept = { sizes: [] as number[], strides: [] as number[] };
  const red = { sizes: [] as number[], strides: [] as number[] };
  let previous: boolean | undefined;
  for (let axis = 0; axis < shape.length; axis++) {
    if (shape[axis] === 1) continue;
    const isReduced = reduced.has(axis);
    const group = isReduced ? red : kept;
    if (previous === isReduced) {
      // Merge with the axis before, which is contiguous with this one in a dense tensor.
      group.sizes[group.sizes.length - 1]! *= shape[axis]!;
      group.strides[group.strides.length - 1] = strides[axis]!;
    } else {
      group.sizes.push(shape[axis]!);
      group.strides.push(strides[axis]!);
    }
    previous = isReduced;
  }
  return { kept, reduced: red };
}

/**
 * Plans a reduction. The output contains the kept axes in their input order (keepdim only
 * changes the shape, not the layout). Bindings: (0) input, (1) output.
 */
export function planReduce(
  geometry: ReduceGeometry,
  limits: PlanLimits,
  layout: ReduceLayout = {},
): KernelPlan {
  const { shape, op } = geometry;
  checkShape('reduce input', shape);
  if (!(op in OPS)) throw new UserError(`Unknown reduction '${op}'; expected sum, mean or max.`);
  const axes = normalizeAxes(geometry.axes, shape.length);
  const elements = numel(shape);
  checkTensor(limits, 'reduce input', elements);
  const reducedCount = axes.reduce((product, axis) => product * shape[axis]!, 1);
  const outputs = elements / reducedCount;
  const groups = groupAxes(shape, new Set(axes));
  const { kept, reduced } = groups;
  // Enough threads to cover the reduced elements once, from 32 up to 256.
  const workgroupSize = Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(reducedCount))));
  const scale = layout.scale ?? (op === 'mean' ? 1 / reducedCount : 1);
  const finish = scale === 1 ? 'total' : `total * ${f32(scale)}`;
  const source = specialize('reduce', template, {
    WG: u32(workgroupSize),
    OUTPUTS: u32(outputs),
    IN_BASE: u32(layout.inBase ?? 0),
    OUT_BASE: u32(layout.outBase ?? 0),
    REDUCED: u32(reducedCount),
    KEPT_SIZES: u32Array(padAxes(kept.sizes, 1, 'reduce input')),
    KEPT_STRIDES: u32Array(padAxes(kept.strides, 0, 'reduce input')),
    REDUCED_SIZES: u32Array(padAxes(reduced.sizes, 1, 'reduce input')),
    REDUCED_STRIDES: u32Array(padAxes(reduced.strides, 0, 'reduce input')),
    COMBINE: OPS[op].combine,
    IDENTITY: OPS[op].identity,
    FINISH: finish,
  });
  return {
    spec: {
      name: `reduce_${op}`,
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage'],
    },
    // NOTE: one workgroup per output leaves a large GPU idle when few outputs cover many
    // elements, as a bias gradient over a whole volume does. A split pass would fix it.
    workgroups: outputs,
    flops: elements,
    bytes: 4 * (elements + outputs),
  };
}

/** Returns the shape a reduction leaves, with or without the reduced axes kept as size 1. */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims = false): number[] {
  const reduced = new Set(normalizeAxes(axes, shape.length));
  if (keepDims) return shape.map((size, axis) => (reduced.has(axis) ? 1 : size));
  return shape.filter((_, axis) => !reduced.has(axis));
}

/**
 * Plans a reduction's input gradient by broadcasting dy back over the reduced axes (divided
 * by the count for mean). For max, every element equal to the maximum receives dy.
 * Bindings: sum and mean: (0) dy, (1) dx; max: (0) x, (1) the forward output, (2) dy, (3) dx.
 */
export function planReduceBackward(geometry: ReduceGeometry, limits: PlanLimits): KernelPlan {
  const { shape, op } = geometry;
  checkShape('reduce input', shape);
  const kept = reducedShape(shape, geometry.axes, true);
  const count = numel(shape) / numel(kept);
  const name = `reduce_${op}_backward`;
  if (op === 'sum') return planElementwise(name, [kept], shape, 'x0', limits);
  if (op === 'mean') return planElementwise(name, [kept], shape, `x0 * ${f32(1 / count)}`, limits);
  if (op !== 'max') throw new UserError(`Unknown reduction '${op}'; expected sum, mean or max.`);
  // NOTE: ties all receive the full gradient; torch.amax splits it evenly between them.
  return planElementwise(name, [shape, kept, kept], shape, 'select(T(0.0), x2, x0 == x1)', limits);
}
