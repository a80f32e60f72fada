// Plans max, average and adaptive average pooling and their input gradients over
// [N, C, ...spatial] with 1 to 3 spatial axes. Kernels see every input as 3D: 1D and 2D
// pooling get unit leading axes with kernel 1, stride 1 and no padding.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import adaptiveMaxBackward from '../../shaders/adaptive-maxpool-backward.wgsl';
import adaptiveMaxForward from '../../shaders/adaptive-maxpool.wgsl';
import avgpoolBackward from '../../shaders/avgpool-backward.wgsl';
import avgpoolCommon from '../../shaders/avgpool-common.wgsl';
import avgpoolForward from '../../shaders/avgpool-forward.wgsl';
import maxpoolBackward from '../../shaders/maxpool-backward.wgsl';
import maxpoolBackwardScatter from '../../shaders/maxpool-backward-scatter.wgsl';
import maxpoolForward from '../../shaders/maxpool-forward.wgsl';
import { pairsApply, planMaxPoolPairs, planMaxPoolPairsBackward } from './pool-pairs.js';
import {
  checkShape,
  checkTensor,
  f32,
  numel,
  type KernelPlan,
  type PlanLimits,
  type Shape,
} from './common.js';
import { specialize, wgslNumber, type TemplateValue } from './template.js';

/** Padding of one spatial axis: the same on both sides, or [before, after]. */
export type AxisPadding = number | readonly [number, number];

export interface PoolGeometry {
  /** [N, C, ...spatial], 1 to 3 spatial axes. */
  inputShape: Shape;
  /** One size per spatial axis. */
  kernelSize: readonly number[];
  /** Default: kernelSize, as in PyTorch. */
  stride?: readonly number[];
  /** Default 0; at most half the kernel size, as PyTorch requires. */
  padding?: readonly AxisPadding[];
  /** Max pooling only. Default 1. */
  dilation?: readonly number[];
  /** Round the output size up; a window must still start inside the input. Default false. */
  ceilMode?: boolean;
}

export interface AvgPoolGeometry extends PoolGeometry {
  /** Divide by the window size including padding. Default true, as in PyTorch. */
  countIncludePad?: boolean;
  /** Divide every window by this instead. Default none. */
  divisorOverride?: number;
}

export interface AdaptivePoolGeometry {
  inputShape: Shape;
  /** Output size per spatial axis. */
  outputSize: readonly number[];
}

/** Per-axis geometry in 3D, unit axes first for 1D and 2D. */
interface Window3 {
  planes: number;
  input: number[];
  output: number[];
  kernel: number[];
  stride: number[];
  before: number[];
  after: number[];
  dilation: number[];
}

function spatialDims(inputShape: Shape, what: string): number {
  checkShape(what, inputShape);
  const dims = inputShape.length - 2;
  if (dims < 1 || dims > 3) {
    throw new UserError(
      `${what} input must be [N, C, ...spatial] with 1 to 3 spatial axes, got ` +
        `[${inputShape.join(', ')}].`,
    );
  }
  return dims;
}

function perAxis(name: string, values: readonly number[], dims: number, min: number): number[] {
  if (values.length !== dims || values.some((v) => !Number.isInteger(v) || v < min)) {
    throw new UserError(
      `${name} must list ${dims} integers >= ${min} (one per spatial axis), got [${values}].`,
    );
  }
  return [...values];
}

/** Pads a per-axis list to 3 axes with `fill` in front. */
const to3 = (values: number[], fill: number) => [
  ...new Array(3 - values.length).fill(fill),
  ...values,
];

function pooledSize(
  input: number,
  g: { k: number; s: number; pb: number; pa: number; d: number },
  ceil: boolean,
) {
  const span = input + g.pb + g.pa - g.d * (g.k - 1) - 1;
  let size = (ceil ? Math.ceil(span / g.s) : Math.floor(span / g.s)) + 1;
  // PyTorch drops a last window that would start in the padding after the input.
  if (ceil && (size - 1) * g.s >= input + g.pb) size -= 1;
  return size;
}

function resolveWindow(geometry: PoolGeometry, what: string, dilated: boolean): Window3 {
  const dims = spatialDims(geometry.inputShape, what);
  const input = geometry.inputShape.slice(2);
  const kernel = perAxis(`${what} kernelSize`, geometry.kernelSize, dims, 1);
  const stride = perAxis(`${what} stride`, geometry.stride ?? kernel, dims, 1);
  const dilation = perAxis(`${what} dilation`, geometry.dilation ?? kernel.map(() => 1), dims, 1);
  if (!dilated && dilation.some((d) => d !== 1)) {
    throw new UserError(`${what} has no dilation; got [${dilation}].`);
  }
  const padding = geometry.padding ?? kernel.map(() => 0);
  if (padding.length !== dims) {
    throw new UserError(`${what} padding must list ${dims} entries, got ${padding.length}.`);
  }
  const before = padding.map((p) => (typeof p === 'number' ? p : p[0]));
  const after = padding.map((p) => (typeof p === 'number' ? p : p[1]));
  const output = input.map((size, axis) => {
    const [pb, pa, k] = [before[axis]!, after[axis]!, kernel[axis]!];
    if (![pb, pa].every((p) => Number.isInteger(p) && p >= 0 && p <= k / 2)) {
      throw new UserError(
        `${what} padding [${pb}, ${pa}] on spatial axis ${axis} must be integers from 0 to ` +
          `half the kernel size (${k}).`,
      );
    }
    const g = { k, s: stride[axis]!, pb, pa, d: dilation[axis]! };
    const out = pooledSize(size, g, geometry.ceilMode ?? false);
    if (out < 1) {
      throw new UserError(
        `${what} window (kernel ${k}, dilation ${g.d}) does not fit spatial axis ${axis} of ` +
          `size ${size} with padding [${pb}, ${pa}]; use a smaller kernel or more padding.`,
      );
    }
    return out;
  });
  return {
    planes: geometry.inputShape[0]! * geometry.inputShape[1]!,
    input: to3(input, 1),
    output: to3(output, 1),
    kernel: to3(kernel, 1),
    stride: to3(stride, 1),
    before: to3(before, 0),
    after: to3(after, 0),
    dilation: to3(dilation, 1),
  };
}

function adaptiveWindow(geometry: AdaptivePoolGeometry, what = 'adaptiveAvgPool'): Window3 {
  const dims = spatialDims(geometry.inputShape, what);
  const output = perAxis(`${what} outputSize`, geometry.outputSize, dims, 1);
  const ones = to3([], 1);
  return {
    planes: geometry.inputShape[0]! * geometry.inputShape[1]!,
    input: to3(geometry.inputShape.slice(2), 1),
    output: to3(output, 1),
    kernel: ones,
    stride: ones,
    before: to3([], 0),
    after: to3([], 0),
    dilation: ones,
  };
}

function windowConstants(window: Window3, count: number): Record<string, TemplateValue> {
  const i32 = (value: number) => wgslNumber(value, 'i32');
  const constants: Record<string, TemplateValue> = { COUNT: wgslNumber(count, 'u32') };
  const axes = ['D', 'H', 'W'];
  const fields: [string, number[]][] = [
    ['I', window.input],
    ['O', window.output],
    ['K', window.kernel],
    ['S', window.stride],
    ['P', window.before],
  ];
  for (const [prefix, values] of fields) {
    axes.forEach((axis, k) => (constants[prefix + axis] = i32(values[k]!)));
  }
  return constants;
}

function outputShape(inputShape: Shape, window: Window3): number[] {
  return [inputShape[0]!, inputShape[1]!, ...window.output.slice(3 - (inputShape.length - 2))];
}

function plan(
  name: string,
  source: string,
  bindings: KernelPlan['spec']['bindings'],
  threads: number,
  flops: number,
  bytes: number,
): KernelPlan {
  return {
    spec: { name, source: source + WGSL_LINEAR_WORKGROUP, bindings },
    workgroups: Math.ceil(threads / 256),
    flops,
    bytes,
  };
}

/** Returns the output shape of max or average pooling. */
export function poolOutputShape(geometry: PoolGeometry): number[] {
  return outputShape(geometry.inputShape, resolveWindow(geometry, 'pool', true));
}

function checkSizes(
  limits: PlanLimits,
  what: string,
  window: Window3,
): { inputs: number; outputs: number } {
  const inputs = window.planes * numel(window.input);
  const outputs = window.planes * numel(window.output);
  checkTensor(limits, `${what} input`, inputs);
  checkTensor(limits, `${what} output`, outputs);
  return { inputs, outputs };
}

function maxConstants(geometry: PoolGeometry, limits: PlanLimits, count: 'inputs' | 'outputs') {
  const window = resolveWindow(geometry, 'maxPool', true);
  const sizes = checkSizes(limits, 'maxPool', window);
  const constants = windowConstants(window, sizes[count]);
  ['D', 'H', 'W'].forEach((axis, k) => {
    constants[`D${axis}`] = wgslNumber(window.dilation[k]!, 'i32');
  });
  return { constants, sizes, taps: numel(window.kernel), window };
}

/**
 * Plans max pooling. Bindings: (0) x, (1) y, (2) argmax (u32, same shape as y). With
 * `reluMask`, x is a relu's output and a window whose maximum is not > 0 gets the argmax
 * 0xffffffff, so that the input gradient kernels apply relu's gradient as well.
 */
export function planMaxPool(
  geometry: PoolGeometry,
  limits: PlanLimits,
  reluMask = false,
): KernelPlan {
  const { constants, sizes, taps, window } = maxConstants(geometry, limits, 'outputs');
  const bytes = 4 * (sizes.inputs + 2 * sizes.outputs);
  if (pairsApply(window)) {
    return planMaxPoolPairs(window, sizes.outputs * taps, bytes, reluMask);
  }
  constants.RELU_MASK = reluMask;
  const source = specialize('maxpool-forward', maxpoolForward, constants);
  const bindings: KernelPlan['spec']['bindings'] = ['read-only-storage', 'storage', 'storage'];
  return plan('maxpool', source, bindings, sizes.outputs, sizes.outputs * taps, bytes);
}

/**
 * The max-pooling input-gradient kernel: 'gather' (one thread per input element, which scans
 * the windows that contain it) or 'scatter' (one thread per window, for windows that do not
 * overlap).
 */
export type MaxPoolBackwardMethod = 'gather' | 'scatter';

/** Checks that no two windows share an input element (stride >= dilated kernel span). */
function windowsDisjoint(window: Window3): boolean {
  return window.kernel.every((k, a) => window.dilation[a]! * (k - 1) + 1 <= window.stride[a]!);
}

/**
 * Plans max pooling's input gradient. Bindings: (0) dy, (1) argmax, (2) dx. `method` defaults
 * to 'scatter' when windows do not overlap (it reads each output once instead of once per
 * input element: 5x faster for 2x pooling of [2, 8, 80, 96, 80] on lavapipe, in
 * bench/kernels.ts) and to
 * 'gather' otherwise.
 */
export function planMaxPoolBackward(
  geometry: PoolGeometry,
  limits: PlanLimits,
  method?: MaxPoolBackwardMethod,
): KernelPlan {
  const { constants, sizes, taps, window } = maxConstants(geometry, limits, 'inputs');
  const disjoint = windowsDisjoint(window);
  if (method === 'scatter' && !disjoint) {
    throw new UserError(
      `maxPool backward 'scatter' needs windows that do not overlap (stride >= ` +
        `dilation * (kernelSize - 1) + 1 on every axis), got kernel [${window.kernel}], ` +
        `stride [${window.stride}], dilation [${window.dilation}]; use 'gather'.`,
    );
  }
  const bindings: KernelPlan['spec']['bindings'] = [
    'read-only-storage',
    'read-only-storage',
    'storage',
  ];
  const bytes = 4 * (sizes.inputs + 2 * sizes.outputs);
  if (method === undefined && pairsApply(window)) {
    return planMaxPoolPairsBackward(window, sizes.inputs, bytes);
  }
  if (method === 'scatter' || (method === undefined && disjoint)) {
    const cells = ['D', 'H', 'W'].map((axis, a) => {
      const count = Math.ceil((window.input[a]! + window.before[a]!) / window.stride[a]!);
      constants[`C${axis}`] = wgslNumber(count, 'i32');
      return count;
    });
    // Every cell holds its whole window, so the scatter loops over the stride, not the kernel.
    for (const key of ['KD', 'KH', 'KW', 'DD', 'DH', 'DW']) delete constants[key];
    const threads = window.planes * numel(cells);
    constants.COUNT = wgslNumber(threads, 'u32');
    const source = specialize('maxpool-backward-scatter', maxpoolBackwardScatter, constants);
    return plan('maxpool_backward_scatter', source, bindings, threads, sizes.inputs, bytes);
  }
  constants.TILED = window.kernel.every(
    (k, a) =>
      window.stride[a] === k &&
      window.dilation[a] === 1 &&
      window.before[a] === 0 &&
      window.after[a] === 0,
  );
  const source = specialize('maxpool-backward', maxpoolBackward, constants);
  return plan('maxpool_backward', source, bindings, sizes.inputs, sizes.inputs * taps, bytes);
}

function avgConstants(
  window: Window3,
  options: { adaptive: boolean; countIncludePad: boolean; divisorOverride: number },
  count: number,
) {
  const constants = windowConstants(window, count);
  ['D', 'H', 'W'].forEach((axis, k) => {
    constants[`Q${axis}`] = wgslNumber(window.after[k]!, 'i32');
  });
  constants.ADAPTIVE = options.adaptive;
  constants.COUNT_INCLUDE_PAD = options.countIncludePad;
  constants.DIVISOR_OVERRIDE = f32(options.divisorOverride);
  return constants;
}

function avgOptions(geometry: AvgPoolGeometry) {
  const divisorOverride = geometry.divisorOverride ?? 0;
  if (
    geometry.divisorOverride !== undefined &&
    !(Number.isInteger(divisorOverride) && divisorOverride > 0)
  ) {
    throw new UserError(
      `avgPool divisorOverride must be a positive integer, got ${divisorOverride}.`,
    );
  }
  return { adaptive: false, countIncludePad: geometry.countIncludePad ?? true, divisorOverride };
}

function planAvg(
  window: Window3,
  options: Parameters<typeof avgConstants>[1],
  backward: boolean,
  limits: PlanLimits,
) {
  const what = options.adaptive ? 'adaptiveAvgPool' : 'avgPool';
  const sizes = checkSizes(limits, what, window);
  const threads = backward ? sizes.inputs : sizes.outputs;
  const constants = avgConstants(window, options, threads);
  const template = backward ? avgpoolBackward : avgpoolForward;
  const source = specialize(backward ? 'avgpool-backward' : 'avgpool-forward', template, constants);
  const name = `${options.adaptive ? 'adaptive_avgpool' : 'avgpool'}${backward ? '_backward' : ''}`;
  const bindings: KernelPlan['spec']['bindings'] = ['read-only-storage', 'storage'];
  return plan(
    name,
    source + avgpoolCommon,
    bindings,
    threads,
    sizes.inputs,
    4 * (sizes.inputs + sizes.outputs),
  );
}

/** Plans average pooling. Bindings: (0) x, (1) y. */
export function planAvgPool(geometry: AvgPoolGeometry, limits: PlanLimits): KernelPlan {
  return planAvg(resolveWindow(geometry, 'avgPool', false), avgOptions(geometry), false, limits);
}

/** Plans average pooling's input gradient. Bindings: (0) dy, (1) dx. */
export function planAvgPoolBackward(geometry: AvgPoolGeometry, limits: PlanLimits): KernelPlan {
  return planAvg(resolveWindow(geometry, 'avgPool', false), avgOptions(geometry), true, limits);
}

const ADAPTIVE = { adaptive: true, countIncludePad: false, divisorOverride: 0 };

/** Plans adaptive average pooling. Bindings: (0) x, (1) y. */
export function planAdaptiveAvgPool(
  geometry: AdaptivePoolGeometry,
  limits: PlanLimits,
): KernelPlan {
  return planAvg(adaptiveWindow(geometry), ADAPTIVE, false, limits);
}

/** Plans adaptive average pooling's input gradient. Bindings: (0) dy, (1) dx. */
export function planAdaptiveAvgPoolBackward(
  geometry: AdaptivePoolGeometry,
  limits: PlanLimits,
): KernelPlan {
  return planAvg(adaptiveWindow(geometry), ADAPTIVE, true, limits);
}

function adaptiveMaxConstants(
  geometry: AdaptivePoolGeometry,
  limits: PlanLimits,
  backward: boolean,
) {
  const window = adaptiveWindow(geometry, 'adaptiveMaxPool');
  const sizes = checkSizes(limits, 'adaptiveMaxPool', window);
  const all = windowConstants(window, backward ? sizes.inputs : sizes.outputs);
  const constants: Record<string, TemplateValue> = { COUNT: all.COUNT! };
  for (const key of ['ID', 'IH', 'IW', 'OD', 'OH', 'OW']) constants[key] = all[key]!;
  return { constants, sizes };
}

/**
 * Plans adaptive max pooling. Bindings: (0) x, (1) y, (2) argmax (u32, same shape as y), as
 * planMaxPool.
 */
export function planAdaptiveMaxPool(
  geometry: AdaptivePoolGeometry,
  limits: PlanLimits,
): KernelPlan {
  const { constants, sizes } = adaptiveMaxConstants(geometry, limits, false);
  const source = specialize('adaptive-maxpool', adaptiveMaxForward, constants);
  const bindings: KernelPlan['spec']['bindings'] = ['read-only-storage', 'storage', 'storage'];
  const bytes = 4 * (sizes.inputs + 2 * sizes.outputs);
  return plan('adaptive_maxpool', source, bindings, sizes.outputs, sizes.inputs, bytes);
}

/** Plans adaptive max pooling's input gradient. Bindings: (0) dy, (1) argmax, (2) dx. */
export function planAdaptiveMaxPoolBackward(
  geometry: AdaptivePoolGeometry,
  limits: PlanLimits,
): KernelPlan {
  const { constants, sizes } = adaptiveMaxConstants(geometry, limits, true);
  const source = specialize('adaptive-maxpool-backward', adaptiveMaxBackward, constants);
  const bindings: KernelPlan['spec']['bindings'] = [
    'read-only-storage',
    'read-only-storage',
    'storage',
  ];
  const bytes = 4 * (sizes.inputs + 2 * sizes.outputs);
  return plan('adaptive_maxpool_backward', source, bindings, sizes.inputs, sizes.inputs, bytes);
}
