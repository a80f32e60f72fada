// Plans the copy kernels: permute, slice, concatenation and padding, and their backward
// passes. All but padding are one region copy (shaders/copy-region.wgsl); padding gathers
// (shaders/pad.wgsl). Backward passes: permute's is the inverse permute, slice's is a
// zero padding (step 1) or a copy into a zeroed gradient, concatenation's is one slice per
// input, constant padding's is a slice, and reflect and replicate padding gather
// (shaders/pad-backward.wgsl).

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import regionTemplate from '../../shaders/copy-region.wgsl';
import padBackwardTemplate from '../../shaders/pad-backward.wgsl';
import padTemplate from '../../shaders/pad.wgsl';
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
import { mergeAxes } from './elementwise.js';
import { specialize, wgslNumber } from './template.js';

/** A region copy: sizes, and where each side starts and steps along every axis. */
interface Region {
  shape: number[];
  srcBase: number;
  srcStrides: number[];
  dstBase: number;
  dstStrides: number[];
}

function planRegion(name: string, region: Region, limits: PlanLimits): KernelPlan {
  const count = numel(region.shape);
  checkTensor(limits, name, count);
  const merged = mergeAxes(region.shape, [region.srcStrides, region.dstStrides]);
  const source = specialize('copy-region', regionTemplate, {
    COUNT: u32(count),
    SRC_BASE: u32(region.srcBase),
    DST_BASE: u32(region.dstBase),
    SHAPE: u32Array(padAxes(merged.shape, 1, name)),
    SRC_STRIDES: u32Array(padAxes(merged.strides[0]!, 0, name)),
    DST_STRIDES: u32Array(padAxes(merged.strides[1]!, 0, name)),
  });
  return {
    spec: {
      name,
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage'],
    },
    workgroups: Math.ceil(count / 256),
    flops: 0,
    bytes: 8 * count,
  };
}

function checkAxis(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new UserError(`${what} axis ${axis} is out of range for rank ${rank}.`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Returns the shape after permuting `shape` by `axes` (output axis k is input axis axes[k]). */
export function permutedShape(shape: Shape, axes: readonly number[]): number[] {
  const sorted = [...axes].sort((a, b) => a - b);
  if (axes.length !== shape.length || sorted.some((axis, k) => axis !== k)) {
    throw new UserError(
      `Permutation [${axes.join(', ')}] must list each axis of rank ${shape.length} once.`,
    );
  }
  return axes.map((axis) => shape[axis]!);
}

/** Plans a permute (transpose) into a contiguous output. Bindings: (0) x, (1) y. */
export function planPermute(shape: Shape, axes: readonly number[], limits: PlanLimits): KernelPlan {
  checkShape('permute input', shape);
  const outShape = permutedShape(shape, axes);
  const strides = contiguousStrides(shape);
  return planRegion(
    'permute',
    {
      shape: outShape,
      srcBase: 0,
      srcStrides: axes.map((axis) => strides[axis]!),
      dstBase: 0,
      dstStrides: contiguousStrides(outShape),
    },
    limits,
  );
}

export interface SliceGeometry {
  shape: Shape;
  /** First index per axis. Default 0. */
  starts?: readonly number[];
  /** End (exclusive) per axis. Default the size. */
  ends?: readonly number[];
  /** Step per axis, at least 1. Default 1. */
  steps?: readonly number[];
}

function resolveSlice(geometry: SliceGeometry) {
  const { shape } = geometry;
  checkShape('slice input', shape);
  const starts = shape.map((_, a) => geometry.starts?.[a] ?? 0);
  const ends = shape.map((size, a) => geometry.ends?.[a] ?? size);
  const steps = shape.map((_, a) => geometry.steps?.[a] ?? 1);
  const outShape = shape.map((size, a) => {
    const [start, end, step] = [starts[a]!, ends[a]!, steps[a]!];
    const valid = [start, end, step].every(Number.isInteger) && step >= 1;
    if (!valid || start < 0 || end > size || start >= end) {
      throw new UserError(
        `Slice [${start}:${end}:${step}] of axis ${a} (size ${size}) is invalid; it needs ` +
          `0 <= start < end <= size and an integer step >= 1.`,
      );
    }
    return Math.ceil((end - start) / step);
  });
  const strides = contiguousStrides(shape);
  const base = starts.reduce((offset, start, a) => offset + start * strides[a]!, 0);
  const stepped = strides.map((stride, a) => stride * steps[a]!);
  return { outShape, base, stepped };
}

/** Returns the output shape of a slice. */
export function slicedShape(geometry: SliceGeometry): number[] {
  return resolveSlice(geometry).outShape;
}

/** Plans a slice into a contiguous output. Bindings: (0) x, (1) y. */
export function planSlice(geometry: SliceGeometry, limits: PlanLimits): KernelPlan {
  const { outShape, base, stepped } = resolveSlice(geometry);
  const region = {
    shape: outShape,
    srcBase: base,
    srcStrides: stepped,
    dstBase: 0,
    dstStrides: contiguousStrides(outShape),
  };
  return planRegion('slice', region, limits);
}

/**
 * Plans a slice's backward pass as a copy of dy into its region of dx. The rest of dx must be
 * zero already (clear it first), unless every step is 1 and planPad with zeros is used
 * instead. Bindings: (0) dy, (1) dx.
 */
export function planSliceBackward(geometry: SliceGeometry, limits: PlanLimits): KernelPlan {
  const { outShape, base, stepped } = resolveSlice(geometry);
  const region = {
    shape: outShape,
    srcBase: 0,
    srcStrides: contiguousStrides(outShape),
    dstBase: base,
    dstStrides: stepped,
  };
  return planRegion('slice_backward', region, limits);
}

/** Returns the shape of `shapes` concatenated along `axis`, or throws naming the mismatch. */
export function concatShape(shapes: readonly Shape[], axis: number): number[] {
  if (shapes.length === 0) throw new UserError('Concatenation needs at least one input.');
  const rank = shapes[0]!.length;
  const a = checkAxis(axis, rank, 'Concatenation');
  shapes.forEach((shape, k) => {
    checkShape(`concatenation input ${k}`, shape);
    const mismatch =
      shape.length !== rank || shape.some((size, b) => b !== a && size !== shapes[0]![b]);
    if (mismatch) {
      throw new UserError(
        `Concatenation input ${k} has shape [${shape.join(', ')}], which differs from ` +
          `[${shapes[0]!.join(', ')}] outside axis ${a}.`,
      );
    }
  });
  const out = [...shapes[0]!];
  out[a] = shapes.reduce((total, shape) => total + shape[a]!, 0);
  return out;
}

function concatRegions(shapes: readonly Shape[], axis: number): Region[] {
  const outShape = concatShape(shapes, axis);
  const a = axis < 0 ? axis + outShape.length : axis;
  const outStrides = contiguousStrides(outShape);
  let offset = 0;
  return shapes.map((shape) => {
    const region = {
      shape: [...shape],
      srcBase: 0,
      srcStrides: contiguousStrides(shape),
      dstBase: offset * outStrides[a]!,
      dstStrides: outStrides,
    };
    offset += shape[a]!;
    return region;
  });
}

/** Plans a concatenation: one copy per input. Bindings of plan k: (0) input k, (1) output. */
export function planConcat(
  shapes: readonly Shape[],
  axis: number,
  limits: PlanLimits,
): KernelPlan[] {
  return concatRegions(shapes, axis).map((region) => planRegion('concat', region, limits));
}

/** Plans a concatenation's backward pass. Bindings of plan k: (0) dy, (1) gradient of input k. */
export function planConcatBackward(
  shapes: readonly Shape[],
  axis: number,
  limits: PlanLimits,
): KernelPlan[] {
  return concatRegions(shapes, axis).map((region) =>
    planRegion(
      'concat_backward',
      {
        shape: region.shape,
        srcBase: region.dstBase,
        srcStrides: region.dstStrides,
        dstBase: 0,
        dstStrides: region.srcStrides,
      },
      limits,
    ),
  );
}

export type PadMode = 'constant' | 'reflect' | 'replicate';
const PAD_MODES: Record<PadMode, number> = { constant: 0, reflect: 1, replicate: 2 };

export interface PadGeometry {
  shape: Shape;
  /** [before, after] per axis, for every axis of the shape. */
  padding: readonly (readonly [number, number])[];
  /** Default 'constant'. */
  mode?: PadMode;
  /** Fill of constant padding. Default 0. */
  value?: number;
}

function resolvePad(geometry: PadGeometry) {
  const { shape, padding } = geometry;
  checkShape('pad input', shape);
  const mode = geometry.mode ?? 'constant';
  if (!(mode in PAD_MODES))
    throw new UserError(`Unknown pad mode '${mode}'; expected constant, reflect or replicate.`);
  if (padding.length !== shape.length) {
    throw new UserError(`Padding must give [before, after] for each of the ${shape.length} axes.`);
  }
  padding.forEach(([before, after], a) => {
    const valid = [before, after].every((p) => Number.isInteger(p) && p >= 0);
    if (!valid || (mode === 'reflect' && Math.max(before, after) >= shape[a]!)) {
      throw new UserError(
        `Padding [${before}, ${after}] of axis ${a} (size ${shape[a]}) is invalid: it needs ` +
          'non-negative integers' +
          (mode === 'reflect' ? ', smaller than the size for reflect.' : '.'),
      );
    }
  });
  const outShape = shape.map((size, a) => size + padding[a]![0] + padding[a]![1]);
  return { mode, outShape };
}

/** Plans padding. Bindings: (0) x, (1) y. */
export function planPad(geometry: PadGeometry, limits: PlanLimits): KernelPlan {
  const { mode, outShape } = resolvePad(geometry);
  const count = numel(outShape);
  checkTensor(limits, 'pad output', count);
  const before = geometry.padding.map(([b]) => wgslNumber(b, 'i32'));
  const source = specialize('pad', padTemplate, {
    RANK: u32(outShape.length),
    COUNT: u32(count),
    MODE: u32(PAD_MODES[mode]),
    VALUE: f32(geometry.value ?? 0),
    OUT_SHAPE: u32Array(outShape),
    IN_SHAPE: u32Array(geometry.shape),
    BEFORE: `array<i32, ${before.length}>(${before.join(', ')})`,
  });
  return {
    spec: {
      name: `pad_${mode}`,
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage'],
    },
    workgroups: Math.ceil(count / 256),
    flops: 0,
    bytes: 4 * (count + numel(geometry.shape)),
  };
}

/**
 * Plans padding's backward pass: for constant padding, the slice of dy that covers the
 * input; for reflect and replicate, a gather of every output that reads each input.
 * Bindings: (0) dy, (1) dx.
 */
export function planPadBackward(geometry: PadGeometry, limits: PlanLimits): KernelPlan {
  const { mode, outShape } = resolvePad(geometry);
  if (mode === 'constant') {
    const starts = geometry.padding.map(([before]) => before);
    const ends = geometry.shape.map((size, a) => size + starts[a]!);
    return planSlice({ shape: outShape, starts, ends }, limits);
  }
  const count = numel(geometry.shape);
  checkTensor(limits, 'pad output', numel(outShape));
  const before = geometry.padding.map(([b]) => wgslNumber(b, 'i32'));
  const source = specialize('pad-backward', padBackwardTemplate, {
    RANK: u32(outShape.length),
    COUNT: u32(count),
    MODE: u32(PAD_MODES[mode]),
    OUT_SHAPE: u32Array(outShape),
    IN_SHAPE: u32Array(geometry.shape),
    BEFORE: `array<i32, ${before.length}>(${before.join(', ')})`,
  });
  return {
    spec: {
      name: `pad_${mode}_backward`,
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage'],
    },
    workgroups: Math.ceil(count / 256),
    flops: numel(outShape),
    bytes: 4 * (count + numel(outShape)),
  };
}
