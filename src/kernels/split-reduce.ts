// Splitting of reductions and broadcasting element-wise ops over the binding limit (see
// split.ts). Both split by runs of leading units, the elements of the leading axes along which
// every tensor is either whole or broadcast (size 1). A run of units is then a contiguous
// window of each whole tensor, and each broadcast tensor is bound whole.

import { GpuLimitError } from '../errors.js';
import { numElements, type Shape, type Value } from '../graph/ir.js';
import { planSlice } from './copy.js';
import {
  value,
  type LowerContext,
  type LoweredDispatch,
  type LowerLimits,
  type Operand,
} from './lower.js';
import type { KernelPlan } from './plan.js';
import { normalizeAxes, planReduce, type ReduceOp } from './reduce.js';
import {
  alignmentElements,
  describeOperand,
  fitsOneBinding,
  splitUnits,
  unitDispatches,
  windowOf,
} from './split.js';

/**
 * Elements of x that one workgroup of a split reduction reduces into each output: enough
 * parts to fill a GPU (a 201 MiB mean loss gives about 3,200) and few enough for the last
 * dispatch to combine quickly.
 */
const PART_ELEMENTS = 16384;

/** A tensor of a broadcasting op and its shape, padded or not to the output's rank. */
export interface ShapedOperand {
  operand: Operand;
  role: string;
  shape: Shape;
}

/** Kind of a tensor along the leading axes: the op's size, size 1, or either (size-1 axes). */
type Leading = 'whole' | 'broadcast' | 'either';

/** Pads `shape` with leading size-1 axes to `rank`. */
function padRank(shape: Shape, rank: number): number[] {
  return [...Array<number>(rank - shape.length).fill(1), ...shape];
}

/**
 * Counts the leading axes of `outShape` along which each of `shapes` (padded to its rank) is
 * whole on all or broadcast on all. Returns the count and each shape's kind over them.
 */
function leadingAxes(outShape: Shape, shapes: readonly Shape[]) {
  const kinds: Leading[] = shapes.map(() => 'either');
  let axis = 0;
  for (; axis < outShape.length; axis++) {
    const size = outShape[axis]!;
    if (size === 1) continue;
    const next = shapes.map((shape) => (shape[axis] === size ? 'whole' : 'broadcast'));
    if (next.some((kind, k) => kinds[k] !== 'either' && kinds[k] !== kind)) break;
    next.forEach((kind, k) => (kinds[k] = kind));
  }
  return { axes: axis, kinds };
}

/** Names the unit of a split over the first `axes` axes of a tensor of rank `rank`. */
function unitName(axes: number, rank: number): string {
  if (axes === rank) return 'element';
  if (axes === 1) return 'sample';
  return `slice along axes 0 to ${axes - 1}`;
}

/**
 * Lowers an element-wise op whose inputs broadcast to the output, the last operand: one
 * dispatch, or one per run of leading units when a tensor exceeds the binding limit. A run
 * binds each whole tensor's window, or a copy of it (see needsStaging), and each broadcast
 * tensor whole. `plan` gets the operands' shapes for the run, or the original shapes when
 * nothing splits. Each output element is
 * computed as unsplit, so the bits match.
 */
export function broadcastDispatches(
  context: LowerContext,
  operands: readonly ShapedOperand[],
  plan: (shapes: Shape[]) => KernelPlan,
): LoweredDispatch[] {
  const { limits } = context;
  const outShape = operands.at(-1)!.shape;
  const rank = outShape.length;
  const padded = operands.map(({ shape }) => padRank(shape, rank));
  const { axes, kinds } = leadingAxes(outShape, padded);
  const units = numElements(outShape.slice(0, axes));
  const split = operands.map(({ operand, role }, k) => ({
    operand,
    label: describeOperand(role, operand),
    elementsPerUnit: kinds[k] === 'broadcast' ? 0 : numElements(padded[k]!.slice(axes)),
  }));
  const staged = split.map((o, k) => k < split.length - 1 && needsStaging(o, units, limits));
  const ranges = splitUnits(
    units,
    split.map((o, k) => (staged[k] ? { ...o, elementsPerUnit: 0 } : o)),
    limits,
    unitName(axes, rank),
  );
  if (ranges.length === 1) {
    return [
      { plan: plan(operands.map(({ shape }) => shape)), operands: split.map((o) => o.operand) },
    ];
  }

  const runShapes = (count: number) =>
    padded.map((shape, k) => [kinds[k] === 'broadcast' ? 1 : count, ...shape.slice(axes)]);
  const plans = new Map<number, KernelPlan>();
  const stages = split.map((o, k) =>
    staged[k] ? context.scratch(ranges[0]!.count * o.elementsPerUnit) : undefined,
  );
  return ranges.flatMap(({ start, count }) => {
    if (!plans.has(count)) plans.set(count, plan(runShapes(count)));
    const copies: LoweredDispatch[] = [];
    const bound = split.map(({ operand, elementsPerUnit }, k) => {
      if (elementsPerUnit === 0) return operand;
      if (!stages[k]) return windowOf(operand, start * elementsPerUnit, count * elementsPerUnit);
      const geometry = {
        shape: [units, elementsPerUnit],
        starts: [start, 0],
        ends: [start + count, elementsPerUnit],
      };
      copies.push({ plan: planSlice(geometry, limits), operands: [operand, stages[k]!] });
      return stages[k]!;
    });
    return [...copies, { plan: plans.get(count)!, operands: bound }];
  });
}

/**
 * True when an input's windows of whole units would not start aligned but all of it fits one
 * binding, as dy of a per-sample sum does. Each run then copies its units into a scratch,
 * because the broadcast kernels read their inputs from the binding's start.
 */
function needsStaging(
  { elementsPerUnit }: { elementsPerUnit: number },
  units: number,
  limits: LowerLimits,
): boolean {
  return (
    elementsPerUnit % alignmentElements(limits) !== 0 &&
    units * elementsPerUnit * 4 <= limits.maxStorageBufferBindingSize
  );
}

/**
 * Lowers `op` of x over `axes` into y, split by runs of x's leading units when x exceeds the
 * binding limit: see reduceByRuns along kept leading axes, and reduceInParts along reduced
 * ones (every axis, for a mean loss).
 */
export function lowerSplitReduce(
  context: LowerContext,
  x: Value,
  y: Value,
  reduceAxes: readonly number[],
  op: ReduceOp,
): LoweredDispatch[] {
  const shape = x.shape;
  const axes = normalizeAxes(reduceAxes, shape.length);
  const kept = shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
  const leading = leadingAxes(shape, [kept]);
  const prefix = leading.axes;
  const split: SplitReduce = {
    x,
    y,
    op,
    units: numElements(shape.slice(0, prefix)),
    unit: unitName(prefix, shape.length),
    inner: shape.slice(prefix),
    innerAxes: axes.filter((axis) => axis >= prefix).map((axis) => axis - prefix + 1),
    planWhole: () => planReduce({ shape, axes, op }, context.limits),
  };
  if (leading.kinds[0] === 'broadcast') return reduceInParts(context, split);

  return reduceByRuns(context, split, numElements(kept.slice(prefix)));
}

/** A reduction viewed as [units, ...inner], with the reduced axes of `inner` renumbered. */
interface SplitReduce {
  x: Value;
  y: Value;
  op: ReduceOp;
  units: number;
  /** Names a unit in errors. */
  unit: string;
  inner: Shape;
  /** Reduced axes of [units, ...inner] after axis 0. */
  innerAxes: number[];
  /** Plans the unsplit reduction, which throws when x exceeds the binding limit. */
  planWhole: () => KernelPlan;
}

/**
 * Lowers a reduction that keeps its leading units in runs that fit one binding, each reducing
 * its units' outputs as unsplit does. When y fits one binding, it is bound whole and written
 * from the run's first output, so that only the windows of x must start aligned.
 */
function reduceByRuns(
  context: LowerContext,
  split: SplitReduce,
  outputsPerUnit: number,
): LoweredDispatch[] {
  const { x, y, op, units, inner, innerAxes } = split;
  const elementsPerUnit = numElements(inner);
  const input = { operand: value(x), label: describeOperand('input', value(x)), elementsPerUnit };
  const output = { operand: value(y), label: describeOperand('output', value(y)) };
  const plan = (count: number, outBase = 0) =>
    count === units
      ? split.planWhole()
      : planReduce({ shape: [count, ...inner], axes: innerAxes, op }, context.limits, { outBase });
  if (!fitsOneBinding(units, [{ ...output, elementsPerUnit: outputsPerUnit }], context.limits)) {
    const operands = [input, { ...output, elementsPerUnit: outputsPerUnit }];
    return unitDispatches(units, operands, context.limits, split.unit, (count) => plan(count));
  }
  const runs = splitUnits(units, [input], context.limits, split.unit);
  return runs.map(({ start, count }) => {
    const window = windowOf(input.operand, start * elementsPerUnit, count * elementsPerUnit);
    return {
      plan: plan(count, start * outputsPerUnit),
      operands: [runs.length === 1 ? input.operand : window, output.operand],
    };
  });
}

/**
 * Lowers a reduction over its leading units (reduced axes) in runs that fit one binding. Each
 * run is reduced in parts of about PART_ELEMENTS elements, each part into a row of a scratch
 * [rows, outputs]. A last dispatch combines the rows in run order with a fixed tree: sum, max,
 * or mean as the sum times 1 / count. Sums differ from unsplit by their order only, and every
 * run gives the same bits.
 */
function reduceInParts(context: LowerContext, split: SplitReduce): LoweredDispatch[] {
  const { x, y, op, inner, innerAxes } = split;
  const label = describeOperand('input', value(x));
  const elementsPerUnit = numElements(inner);
  const runs = splitUnits(split.units, [{ label, elementsPerUnit }], context.limits, split.unit);
  if (runs.length === 1) return [{ plan: split.planWhole(), operands: [value(x), value(y)] }];

  // A run is `whole` parts of `partUnits` units, then a shorter part read from its offset.
  const partUnits = Math.max(1, Math.floor(PART_ELEMENTS / elementsPerUnit));
  const parts = runs.map(({ count }) => ({
    whole: Math.floor(count / partUnits),
    rest: count % partUnits,
  }));
  const rows = parts.reduce((sum, { whole, rest }) => sum + whole + (rest > 0 ? 1 : 0), 0);
  const outputs = numElements(y.shape);
  checkScratch(context, rows * outputs, label);
  const scratch = context.scratch(rows * outputs);
  const partial: ReduceOp = op === 'max' ? 'max' : 'sum';
  const partAxes = innerAxes.map((axis) => axis + 1);

  const dispatches: LoweredDispatch[] = [];
  let row = 0;
  runs.forEach(({ start, count }, run) => {
    const window = windowOf(value(x), start * elementsPerUnit, count * elementsPerUnit);
    const { whole, rest } = parts[run]!;
    if (whole > 0) {
      const geometry = { shape: [whole, partUnits, ...inner], axes: [1, ...partAxes], op: partial };
      const plan = planReduce(geometry, context.limits, { outBase: row * outputs });
      dispatches.push({ plan, operands: [window, scratch] });
      row += whole;
    }
    if (rest > 0) {
      const geometry = { shape: [rest, ...inner], axes: [0, ...innerAxes], op: partial };
      const layout = { inBase: whole * partUnits * elementsPerUnit, outBase: row * outputs };
      const plan = planReduce(geometry, context.limits, layout);
      dispatches.push({ plan, operands: [window, scratch] });
      row += 1;
    }
  });

  const scale = op === 'mean' ? outputs / numElements(x.shape) : 1;
  const geometry = { shape: [rows, outputs], axes: [0], op: partial };
  const combine = planReduce(geometry, context.limits, { scale });
  return [...dispatches, { plan: combine, operands: [scratch, value(y)] }];
}

/** Throws when the partial results of a split reduction do not fit one binding. */
function checkScratch(context: LowerContext, elements: number, label: string): void {
  const limit = context.limits.maxStorageBufferBindingSize;
  if (elements * 4 <= limit) return;
  throw new GpuLimitError(
    `Reducing ${label} in runs leaves ${elements * 4} bytes of partial results, more than the ` +
      `maxStorageBufferBindingSize of ${limit} bytes. Reduce fewer leading axes at once, or ` +
      'use a smaller batch, patches or a smaller input shape.',
  );
}
