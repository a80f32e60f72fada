// Max pooling and its input gradient for windows that tile the input with a width of 2, such
// as 2x2x2 pooling, two outputs per thread. Each input row of the pair is one vec4, where the
// general kernels read and write one element at a time.

import maxpoolPairsBackward from '../../shaders/maxpool-pairs-backward.wgsl';
import maxpoolPairsCommon from '../../shaders/maxpool-pairs-common.wgsl';
import maxpoolPairsForward from '../../shaders/maxpool-pairs-forward.wgsl';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import type { KernelPlan } from './common.js';
import { specialize, wgslNumber, type TemplateValue } from './template.js';

/** A pooling window over [planes, D, H, W], as pool.ts resolves it. */
export interface PairWindow {
  planes: number;
  input: readonly number[];
  output: readonly number[];
  kernel: readonly number[];
  stride: readonly number[];
  before: readonly number[];
  after: readonly number[];
  dilation: readonly number[];
}

/**
 * Tells whether the pair kernels apply: windows tile the input exactly (stride = kernel, no padding
 * or dilation, every input inside a window), the kernel width is 2 and the output width even.
 */
export function pairsApply(window: PairWindow): boolean {
  const tiles = [0, 1, 2].every(
    (a) =>
      window.stride[a] === window.kernel[a] &&
      window.dilation[a] === 1 &&
      window.before[a] === 0 &&
      window.after[a] === 0 &&
      window.input[a] === window.kernel[a]! * window.output[a]!,
  );
  return tiles && window.kernel[2] === 2 && window.output[2]! % 2 === 0;
}

function pairConstants(window: PairWindow) {
  const i32 = (value: number) => wgslNumber(value, 'i32');
  const pairs = (window.planes * window.output.reduce((a, b) => a * b, 1)) / 2;
  const constants: Record<string, TemplateValue> = { COUNT: wgslNumber(pairs, 'u32') };
  ['D', 'H', 'W'].forEach((axis, a) => {
    constants[`I${axis}`] = i32(window.input[a]!);
    constants[`O${axis}`] = i32(window.output[a]!);
  });
  constants.KD = i32(window.kernel[0]!);
  constants.KH = i32(window.kernel[1]!);
  return { pairs, constants };
}

/**
 * Plans max pooling two outputs per thread. Bindings: (0) x, (1) y, (2) argmax. `flops` and
 * `bytes` are the general kernel's, for the profile. `reluMask` as in planMaxPool.
 */
export function planMaxPoolPairs(
  window: PairWindow,
  flops: number,
  bytes: number,
  reluMask = false,
): KernelPlan {
  const { pairs, constants } = pairConstants(window);
  constants.RELU_MASK = reluMask;
  const source = specialize(
    'maxpool-pairs-forward',
    maxpoolPairsForward + maxpoolPairsCommon,
    constants,
  );
  return {
    spec: {
      name: 'maxpool_pairs',
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage', 'storage'],
    },
    workgroups: Math.ceil(pairs / 256),
    flops,
    bytes,
  };
}

/**
 * Plans max pooling's input gradient two outputs per thread. Bindings: (0) dy, (1) argmax,
 * (2) dx.
 */
export function planMaxPoolPairsBackward(
  window: PairWindow,
  flops: number,
  bytes: number,
): KernelPlan {
  const { pairs, constants } = pairConstants(window);
  const source = specialize(
    'maxpool-pairs-backward',
    maxpoolPairsBackward + maxpoolPairsCommon,
    constants,
  );
  return {
    spec: {
      name: 'maxpool_pairs_backward',
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'read-only-storage', 'storage'],
    },
    workgroups: Math.ceil(pairs / 256),
    flops,
    bytes,
  };
}
