// Plans softmax and log-softmax over one axis, forward and backward.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import backwardTemplate from '../../shaders/softmax-backward.wgsl';
import forwardTemplate from '../../shaders/softmax.wgsl';
import {
  checkShape,
  checkTensor,
  numel,
  u32,
  type KernelPlan,
  type PlanLimits,
  type Shape,
} from './common.js';
import { specialize } from './template.js';

export interface SoftmaxGeometry {
  shape: Shape;
  /** Axis to normalise over, in [-rank, rank). */
  axis: number;
  /** Log-softmax instead of softmax. Default false. */
  log?: boolean;
}

/** Resolves `axis` of a softmax over `shape` into [0, rank); throws a UserError out of range. */
export function softmaxAxis(shape: Shape, axis: number): number {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new UserError(`Softmax axis ${axis} is out of range for rank ${rank}.`);
  }
  return axis < 0 ? axis + rank : axis;
}

function rows(geometry: SoftmaxGeometry, limits: PlanLimits) {
  const { shape } = geometry;
  checkShape('softmax input', shape);
  const axis = softmaxAxis(shape, geometry.axis);
  const elements = numel(shape);
  checkTensor(limits, 'softmax input', elements);
  const classes = shape[axis]!;
  const inner = numel(shape.slice(axis + 1));
  const rowCount = elements / classes;
  return {
    elements,
    workgroups: Math.ceil(rowCount / 256),
    constants: {
      ROWS: u32(rowCount),
      C: u32(classes),
      INNER: u32(inner),
      LOG: geometry.log ?? false,
    },
  };
}

// NOTE: one thread walks a whole row, which suits short axes (classes, channels); a softmax
// over thousands of values would want a workgroup per row.

/** Plans softmax or log-softmax. Bindings: (0) x, (1) y. */
export function planSoftmax(geometry: SoftmaxGeometry, limits: PlanLimits): KernelPlan {
  const { elements, workgroups, constants } = rows(geometry, limits);
  const source = specialize('softmax', forwardTemplate, constants);
  return {
    spec: {
      name: geometry.log ? 'log_softmax' : 'softmax',
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage'],
    },
    workgroups,
    flops: 5 * elements,
    bytes: 8 * elements,
  };
}

/** Plans the input gradient. Bindings: (0) the forward output y, (1) dy, (2) dx. */
export function planSoftmaxBackward(geometry: SoftmaxGeometry, limits: PlanLimits): KernelPlan {
  const { elements, workgroups, constants } = rows(geometry, limits);
  const source = specialize('softmax-backward', backwardTemplate, constants);
  return {
    spec: {
      name: geometry.log ? 'log_softmax_backward' : 'softmax_backward',
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'read-only-storage', 'storage'],
    },
    workgroups,
    flops: 4 * elements,
    bytes: 12 * elements,
  };
}
