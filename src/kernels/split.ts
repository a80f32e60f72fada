// Splitting of ops over tensors larger than maxStorageBufferBindingSize. Each tensor stays one
// buffer of up to maxBufferSize bytes. An op that binds more than the limit runs as several
// dispatches, each binding windows of its tensors. NCDHW makes every sample [C, D, H, W] and
// every (n, c) plane [D, H, W] contiguous, so ops split by runs of samples, planes or
// channels. A window starts at a multiple of minStorageBufferOffsetAlignment, so the runs are
// chosen with sizes whose windows all start aligned.

import { GpuLimitError } from '../errors.js';
import type { KernelPlan } from './common.js';
import type { LowerLimits, LoweredDispatch, Operand } from './lower.js';

/** Units [start, start + count): samples, planes, channels or elements, by the op. */
export interface UnitRange {
  start: number;
  count: number;
}

/** A tensor of a split op and how many of its elements each unit covers. */
export interface SplitOperand {
  /** Names the tensor in errors, e.g. "output 'conv1#12'". */
  label: string;
  /** 0 for a tensor that every dispatch binds whole (a weight). */
  elementsPerUnit: number;
}

/** The WebGPU default of minStorageBufferOffsetAlignment, used when a context gives none. */
const DEFAULT_OFFSET_ALIGNMENT = 256;

const ADVICE = 'Use a smaller batch, patches or a smaller input shape.';

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Alignment of binding offsets, in f32 elements. */
export function alignmentElements(limits: LowerLimits): number {
  const bytes = limits.minStorageBufferOffsetAlignment ?? DEFAULT_OFFSET_ALIGNMENT;
  return Math.max(1, bytes / 4);
}

/** True when every operand's `units` units fit one binding. */
export function fitsOneBinding(
  units: number,
  operands: readonly SplitOperand[],
  limits: LowerLimits,
): boolean {
  return operands.every((o) => units * o.elementsPerUnit * 4 <= limits.maxStorageBufferBindingSize);
}

/**
 * Splits `units` into consecutive runs whose every operand window fits one binding and starts
 * at an aligned offset: one run when everything fits. Every run but the last has the same
 * count. Throws a GpuLimitError naming the tensor when even one unit, or the fewest units
 * whose windows start aligned, do not fit. `unit` names a unit in that error ("sample").
 */
export function splitUnits(
  units: number,
  operands: readonly SplitOperand[],
  limits: LowerLimits,
  unit: string,
): UnitRange[] {
  const limit = limits.maxStorageBufferBindingSize;
  if (fitsOneBinding(units, operands, limits)) return [{ start: 0, count: units }];

  const alignment = alignmentElements(limits);
  // Runs of a multiple of `step` units start every operand's window at an aligned offset.
  let step = 1;
  for (const { elementsPerUnit } of operands) {
    const needed = alignment / gcd(elementsPerUnit, alignment);
    step = (step * needed) / gcd(step, needed);
  }
  let count = Infinity;
  for (const operand of operands) {
    const bytes = operand.elementsPerUnit * 4;
    if (bytes > limit) {
      throw new GpuLimitError(
        `One ${unit} of ${operand.label} needs ${bytes} bytes, more than the ` +
          `maxStorageBufferBindingSize of ${limit} bytes, so no split of it fits one ` +
          `binding. ${ADVICE}`,
      );
    }
    count = Math.min(count, Math.floor(limit / bytes));
  }

  count = Math.floor(count / step) * step;
  if (count < 1) {
    const worst = operands.reduce((a, b) => (a.elementsPerUnit > b.elementsPerUnit ? a : b));
    throw new GpuLimitError(
      `Windows of ${worst.label} must start at multiples of ${alignment * 4} bytes ` +
        `(minStorageBufferOffsetAlignment), which takes runs of ${step} ${unit}s of ` +
        `${step * worst.elementsPerUnit * 4} bytes, more than the maxStorageBufferBindingSize ` +
        `of ${limit} bytes. ${ADVICE}`,
    );
  }
  const ranges: UnitRange[] = [];
  for (let start = 0; start < units; start += count) {
    ranges.push({ start, count: Math.min(count, units - start) });
  }
  return ranges;
}

/** Binds elements [offset, offset + elements) of a value or internal tensor. */
export function windowOf(operand: Operand, offset: number, elements: number): Operand {
  if (operand.kind !== 'value' && operand.kind !== 'internal') {
    throw new Error(`Only value and internal operands have windows, got '${operand.kind}'.`);
  }
  const base = operand.window?.offset ?? 0;
  return { ...operand, window: { offset: base + offset, elements } };
}

/** An operand of a unit-wise op: `elementsPerUnit` of its elements belong to each unit. */
export interface UnitOperand {
  operand: Operand;
  label: string;
  elementsPerUnit: number;
}

/**
 * Lowers an op whose units are independent (samples, planes or elements): one dispatch when
 * all of it fits one binding, else one per run of units, each planned by `plan(count)` for
 * its count of units and binding its operands' windows. Runs of equal count share a plan.
 */
export function unitDispatches(
  units: number,
  operands: readonly UnitOperand[],
  limits: LowerLimits,
  unit: string,
  plan: (count: number) => KernelPlan,
): LoweredDispatch[] {
  const ranges = splitUnits(units, operands, limits, unit);
  if (ranges.length === 1) {
    return [{ plan: plan(units), operands: operands.map((o) => o.operand) }];
  }
  const plans = new Map<number, KernelPlan>();
  return ranges.map(({ start, count }) => {
    if (!plans.has(count)) plans.set(count, plan(count));
    return {
      plan: plans.get(count)!,
      operands: operands.map((o) =>
        o.elementsPerUnit === 0
          ? o.operand
          : windowOf(o.operand, start * o.elementsPerUnit, count * o.elementsPerUnit),
      ),
    };
  });
}

/**
 * A run of samples [sample, sample + samples) and, within them, of channels [channel, channel
 * + channels). A run of fewer channels than the tensor has covers one sample.
 */
export interface SamplePiece {
  sample: number;
  samples: number;
  channel: number;
  channels: number;
}

/**
 * Splits a batch of `batch` samples of `channels` channels into pieces that fit one binding:
 * runs of whole samples, or, when one sample does not fit and `perChannel` tensors can be cut
 * by channel, runs of channels of one sample. `whole` tensors are needed whole per sample
 * (elementsPerUnit per sample); `perChannel` tensors give elementsPerUnit per channel.
 */
export function splitSamples(
  batch: number,
  channels: number,
  whole: readonly SplitOperand[],
  perChannel: readonly SplitOperand[],
  limits: LowerLimits,
): SamplePiece[] {
  const limit = limits.maxStorageBufferBindingSize;
  const perSample = [
    ...whole,
    ...perChannel.map((o) => ({ ...o, elementsPerUnit: o.elementsPerUnit * channels })),
  ];
  const sampleFits = perSample.every((o) => o.elementsPerUnit * 4 <= limit);
  if (sampleFits || perChannel.length === 0) {
    return splitUnits(batch, perSample, limits, 'sample').map(({ start, count }) => ({
      sample: start,
      samples: count,
      channel: 0,
      channels,
    }));
  }
  // One sample per piece: each sample's windows must start aligned, and each whole tensor's
  // sample must fit.
  const alignment = alignmentElements(limits);
  for (const operand of batch > 1 ? perSample : []) {
    if (operand.elementsPerUnit % alignment !== 0) {
      throw new GpuLimitError(
        `One sample of ${operand.label} needs ${operand.elementsPerUnit * 4} bytes, which ` +
          `is not a multiple of minStorageBufferOffsetAlignment (${alignment * 4} bytes), ` +
          'so its samples cannot be bound one by one, and more than one sample exceeds the ' +
          `maxStorageBufferBindingSize of ${limit} bytes. ${ADVICE}`,
      );
    }
  }
  for (const operand of whole) splitUnits(1, [operand], limits, 'sample');
  const runs = splitUnits(channels, perChannel, limits, 'channel');
  const pieces: SamplePiece[] = [];
  for (let sample = 0; sample < batch; sample++) {
    for (const { start, count } of runs) {
      pieces.push({ sample, samples: 1, channel: start, channels: count });
    }
  }
  return pieces;
}

/** Names a value operand in split errors: "output 'conv1.conv#12'". */
export function describeOperand(role: string, operand: Operand): string {
  if (operand.kind === 'value') {
    const v = operand.value;
    return `${role} '${v.name ?? `${v.producer?.op ?? v.kind}#${v.id}`}'`;
  }
  if (operand.kind === 'internal') return `${role} '${operand.key}'`;
  return role;
}
