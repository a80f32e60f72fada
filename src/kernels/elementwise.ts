// The element-wise kernel family: one WGSL template per input count, specialised by an
// expression. Same-shape inputs use map*.wgsl (vec4 when the count allows); broadcast inputs
// use broadcast*.wgsl, which reads each input through its own strides.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import broadcast1 from '../../shaders/broadcast1.wgsl';
import broadcast2 from '../../shaders/broadcast2.wgsl';
import broadcast3 from '../../shaders/broadcast3.wgsl';
import functions from '../../shaders/elementwise-functions.wgsl';
import map1 from '../../shaders/map1.wgsl';
import map2 from '../../shaders/map2.wgsl';
import map3 from '../../shaders/map3.wgsl';
import mapInplace from '../../shaders/map-inplace.wgsl';
import mapInto from '../../shaders/map-into.wgsl';
import {
  checkShape,
  checkTensor,
  contiguousStrides,
  numel,
  padAxes,
  u32,
  u32Array,
  type KernelPlan,
  type PlanLimits,
  type Shape,
} from './common.js';
import { specialize } from './template.js';
import { unaryExpression, unaryGradientExpression, unarySaves, type UnaryOp } from './unary-ops.js';

const MAP_TEMPLATES = [map1, map2, map3];
const BROADCAST_TEMPLATES = [broadcast1, broadcast2, broadcast3];
const WORKGROUP = 256;

function bindingsFor(arity: number): KernelPlan['spec']['bindings'] {
  return [...new Array<'read-only-storage'>(arity).fill('read-only-storage'), 'storage'];
}

function checkArity(name: string, arity: number): void {
  if (arity < 1 || arity > 3) {
    throw new Error(`Element-wise kernel '${name}' takes 1 to 3 inputs, got ${arity}.`);
  }
}

/**
 * Plans `y = expression(x0, ..., x{arity-1})` over tensors of one shape. The expression is
 * WGSL over T (vec4f when the element count is a multiple of 4, else f32). Bindings: the
 * inputs in order, then the output.
 */
export function planMap(
  name: string,
  arity: number,
  shape: Shape,
  expression: string,
  limits: PlanLimits,
): KernelPlan {
  checkArity(name, arity);
  checkShape(name, shape);
  const elements = numel(shape);
  checkTensor(limits, name, elements);
  const vectorized = elements % 4 === 0;
  const count = vectorized ? elements / 4 : elements;
  const template = MAP_TEMPLATES[arity - 1]!;
  const source = specialize(`map${arity}`, template, {
    T: vectorized ? 'vec4f' : 'f32',
    COUNT: u32(count),
    EXPR: expression,
  });
  return {
    spec: {
      name,
      source: source + functions + WGSL_LINEAR_WORKGROUP,
      bindings: bindingsFor(arity),
    },
    workgroups: Math.ceil(count / WORKGROUP),
    flops: elements,
    bytes: 4 * elements * (arity + 1),
  };
}

/** Returns the broadcast shape of two shapes under NumPy's rules, or throws naming both. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const shape: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const sizeA = a[a.length - rank + axis] ?? 1;
    const sizeB = b[b.length - rank + axis] ?? 1;
    if (sizeA !== sizeB && sizeA !== 1 && sizeB !== 1) {
      throw new UserError(
        `Shapes [${a.join(', ')}] and [${b.join(', ')}] cannot be broadcast: axis ${axis} ` +
          `has sizes ${sizeA} and ${sizeB}; each pair must match or one must be 1.`,
      );
    }
    shape.push(Math.max(sizeA, sizeB));
  }
  return shape;
}

/** Strides that read `input` (right-aligned) at each coordinate of `output`, 0 if broadcast. */
export function broadcastStrides(input: Shape, output: Shape): number[] {
  const own = contiguousStrides(input);
  const offset = output.length - input.length;
  if (offset < 0) throw new UserError(`Shape [${input}] has more axes than [${output}].`);
  return output.map((size, axis) => {
    const inputSize = axis < offset ? 1 : input[axis - offset]!;
    if (inputSize !== size && inputSize !== 1) {
      throw new UserError(`Shape [${input}] cannot be broadcast to [${output}] at axis ${axis}.`);
    }
    return inputSize === 1 ? 0 : own[axis - offset]!;
  });
}

/**
 * Merges neighbouring axes that every tensor walks contiguously (stride of the outer axis =
 * stride times size of the inner one), so kernels divide by fewer sizes.
 */
export function mergeAxes(
  shape: Shape,
  stridesList: readonly number[][],
): { shape: number[]; strides: number[][] } {
  const merged = [shape[shape.length - 1]!];
  const mergedStrides = stridesList.map((strides) => [strides[strides.length - 1]!]);
  for (let axis = shape.length - 2; axis >= 0; axis--) {
    const inner = merged[0]!;
    const contiguous = stridesList.every(
      (strides, k) => strides[axis] === mergedStrides[k]![0]! * inner,
    );
    if (contiguous) {
      merged[0] = inner * shape[axis]!;
    } else {
      merged.unshift(shape[axis]!);
      stridesList.forEach((strides, k) => mergedStrides[k]!.unshift(strides[axis]!));
    }
  }
  return { shape: merged, strides: mergedStrides };
}

/**
 * Plans `y = expression(x0, ...)` where each input broadcasts to `outShape`. Falls back to
 * planMap, and its vec4 path, when no input is broadcast. Bindings: inputs, then output.
 */
export function planElementwise(
  name: string,
  inputShapes: readonly Shape[],
  outShape: Shape,
  expression: string,
  limits: PlanLimits,
): KernelPlan {
  const arity = inputShapes.length;
  checkArity(name, arity);
  checkShape(name, outShape);
  inputShapes.forEach((shape) => checkShape(name, shape));
  const elements = numel(outShape);
  const sameShape = inputShapes.every((shape) => numel(shape) === elements);
  if (sameShape) return planMap(name, arity, outShape, expression, limits);

  checkTensor(limits, name, elements);
  const strides = inputShapes.map((shape) => broadcastStrides(shape, outShape));
  const merged = mergeAxes(outShape, strides);
  const constants: Record<string, string> = {
    COUNT: u32(elements),
    SHAPE: u32Array(padAxes(merged.shape, 1, name)),
    EXPR: expression,
  };
  merged.strides.forEach(
    (list, k) => (constants[`STRIDES${k}`] = u32Array(padAxes(list, 0, name))),
  );
  const source = specialize(`broadcast${arity}`, BROADCAST_TEMPLATES[arity - 1]!, constants);
  const inputBytes = inputShapes.reduce((total, shape) => total + 4 * numel(shape), 0);
  return {
    spec: {
      name,
      source: source + functions + WGSL_LINEAR_WORKGROUP,
      bindings: bindingsFor(arity),
    },
    workgroups: Math.ceil(elements / WORKGROUP),
    flops: elements,
    bytes: inputBytes + 4 * elements,
  };
}

/**
 * Plans a chain of unary ops fused into one kernel, applied in order.
 * Bindings: (0) input, (1) output.
 */
export function planUnary(chain: readonly UnaryOp[], shape: Shape, limits: PlanLimits): KernelPlan {
  if (chain.length === 0) throw new UserError('A unary chain needs at least one op.');
  const name = chain.map((op) => op.op).join('_');
  const plan = planMap(name, 1, shape, unaryExpression(chain, 'x0'), limits);
  return { ...plan, flops: plan.flops * chain.length };
}

/**
 * Plans the input gradient of one unary op. Bindings: (0) the saved tensor that
 * `unarySaves(op)` names, (1) the output gradient, (2) the input gradient. Ops that save
 * nothing bind only (0) the output gradient and (1) the input gradient.
 */
export function planUnaryBackward(op: UnaryOp, shape: Shape, limits: PlanLimits): KernelPlan {
  const name = `${op.op}_backward`;
  if (unarySaves(op) === 'none') {
    return planMap(name, 1, shape, unaryGradientExpression(op, '', 'x0'), limits);
  }
  return planMap(name, 2, shape, unaryGradientExpression(op, 'x0', 'x1'), limits);
}

/**
 * Plans the input gradient of a unary op written over its output gradient dy, for when dy is
 * read by nothing else: bindings (0) the saved input or output, unless the op saves none,
 * then dy, overwritten with dx.
 */
export function planUnaryBackwardInPlace(
  op: UnaryOp,
  shape: Shape,
  limits: PlanLimits,
): KernelPlan {
  const name = `${op.op}_backward_in_place`;
  checkShape(name, shape);
  const elements = numel(shape);
  checkTensor(limits, name, elements);
  const vectorized = elements % 4 === 0;
  const count = vectorized ? elements / 4 : elements;
  const saves = unarySaves(op) !== 'none';
  const expression = unaryGradientExpression(op, saves ? 'x0' : '', 'acc');
  const source = specialize(saves ? 'map-into' : 'map-inplace', saves ? mapInto : mapInplace, {
    T: vectorized ? 'vec4f' : 'f32',
    COUNT: u32(count),
    EXPR: expression,
  });
  return {
    spec: {
      name,
      source: source + functions + WGSL_LINEAR_WORKGROUP,
      bindings: saves ? ['read-only-storage', 'storage'] : ['storage'],
    },
    workgroups: Math.ceil(count / WORKGROUP),
    flops: elements,
    bytes: 4 * elements * (saves ? 3 : 2),
  };
}
