// What every kernel planner returns, and the fused epilogue that the matmul and convolution
// kernels apply to each output before it is stored.

import { UserError } from '../errors.js';
import type { KernelSpec } from '../runtime/index.js';

/** A specialised kernel with its dispatch size and cost, ready for a Program. */
export interface KernelPlan {
  spec: KernelSpec;
  /** Linear workgroup count; the Program folds it into a grid. */
  workgroups: number;
  /** Floating-point operations of one dispatch (a multiply-add counts 2). */
  flops: number;
  /** Bytes read plus written by one dispatch, counting each tensor once. */
  bytes: number;
}

/** Activation applied to each output of a matmul or convolution, after the bias. */
export type Activation = 'none' | 'relu' | 'leakyRelu' | 'elu' | 'sigmoid' | 'tanh';

export interface Epilogue {
  /** Adds a per-output-channel (per-column for matmul) bias. Default false. */
  bias?: boolean;
  /** Default 'none'. */
  activation?: Activation;
  /** Slope of leakyRelu for negative inputs (default 0.01), or alpha of elu (default 1). */
  activationParameter?: number;
  /**
   * Convolution forward only: an eval-mode batch norm applied after the bias, as
   * (v - mean) * invstd, then * weight + bias when 'affine'. Default 'none'.
   */
  norm?: 'none' | 'plain' | 'affine';
  /** Convolution forward only: adds a tensor of the output's shape before the activation. */
  residual?: boolean;
}

const ACTIVATION_CODES: Record<Activation, number> = {
  none: 0,
  relu: 1,
  leakyRelu: 2,
  elu: 3,
  sigmoid: 4,
  tanh: 5,
};

/** Returns the activation's code in the WGSL `activate` switch and its parameter. */
export function activationConstants(epilogue: Epilogue): { code: number; parameter: number } {
  const activation = epilogue.activation ?? 'none';
  const code = ACTIVATION_CODES[activation];
  if (code === undefined) {
    throw new UserError(
      `Unknown activation '${activation}'; expected one of ` +
        `${Object.keys(ACTIVATION_CODES).join(', ')}.`,
    );
  }
  const parameter = epilogue.activationParameter ?? (activation === 'elu' ? 1 : 0.01);
  if (!Number.isFinite(parameter)) {
    throw new UserError(`activationParameter must be a finite number, got ${parameter}.`);
  }
  return { code, parameter };
}
