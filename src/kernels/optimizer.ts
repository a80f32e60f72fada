// Plans the optimizer update kernels: one dispatch updates one parameter tensor in place
// from its gradient and state. Flags that change the code (momentum on, Nesterov, AMSGrad)
// are baked in; every number is read from a small uniform buffer that the host rewrites each
// step with the *Hyperparameters functions, so schedules never recompile a pipeline.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import adadeltaTemplate from '../../shaders/adadelta.wgsl';
import adagradTemplate from '../../shaders/adagrad.wgsl';
import adamTemplate from '../../shaders/adam.wgsl';
import rmspropTemplate from '../../shaders/rmsprop.wgsl';
import sgdTemplate from '../../shaders/sgd.wgsl';
import {
  checkRange,
  checkTensor,
  u32,
  vectorLayout,
  type KernelPlan,
  type PlanLimits,
} from './common.js';
import { specialize, type TemplateValue } from './template.js';

/** Bytes of every optimizer's uniform buffer (8 f32, a multiple of 16). */
export const HYPER_BYTES = 32;

export interface SgdOptions {
  lr: number;
  /** Default 0 (no momentum buffer). */
  momentum?: number;
  /** Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Default false; needs momentum > 0 and dampening 0. */
  nesterov?: boolean;
  /** Ascend the objective instead. Default false. */
  maximize?: boolean;
}

export interface AdamOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Default 0 for Adam (an L2 term on the gradient), 1e-2 for AdamW (decoupled). */
  weightDecay?: number;
  /** Default false. */
  amsgrad?: boolean;
  /** Default false. */
  maximize?: boolean;
  /** AdamW's decoupled weight decay. Default false. */
  decoupled?: boolean;
}

export interface RmspropOptions {
  /** Default 1e-2. */
  lr?: number;
  /** Smoothing constant. Default 0.99. */
  alpha?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Default 0. */
  momentum?: number;
  /** Normalise by the estimated variance. Default false. */
  centered?: boolean;
  /** Default false. */
  maximize?: boolean;
}

export interface AdagradOptions {
  /** Default 1e-2. */
  lr?: number;
  /** Default 0. */
  lrDecay?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Default 1e-10. */
  eps?: number;
  /** Default false. */
  maximize?: boolean;
}

export interface AdadeltaOptions {
  /** Default 1. */
  lr?: number;
  /** Default 0.9. */
  rho?: number;
  /** Default 1e-6. */
  eps?: number;
  /** Default 0. */
  weightDecay?: number;
  /** Default false. */
  maximize?: boolean;
}

function checkCommon(options: { lr?: number; eps?: number; weightDecay?: number }): void {
  checkRange('lr', options.lr ?? 0, 0, Infinity);
  checkRange('eps', options.eps ?? 0, 0, Infinity);
  checkRange('weightDecay', options.weightDecay ?? 0, 0, Infinity);
}

function planUpdate(
  name: string,
  template: string,
  elements: number,
  flags: Record<string, TemplateValue>,
  stateTensors: number,
  limits: PlanLimits,
): KernelPlan {
  checkTensor(limits, `${name} parameter`, elements);
  if (!Number.isInteger(elements) || elements < 1) {
    throw new UserError(`A parameter must have a positive element count, got ${elements}.`);
  }
  const { type, count } = vectorLayout(elements);
  const source = specialize(name, template, { T: type, COUNT: u32(count), ...flags });
  return {
    spec: {
      name,
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: [
        'storage',
        'read-only-storage',
        ...new Array<'storage'>(stateTensors).fill('storage'),
        'uniform',
      ],
    },
    workgroups: Math.ceil(count / 256),
    flops: 10 * elements,
    bytes: 4 * elements * (3 + 2 * stateTensors),
  };
}

function hyper(values: number[]): Float32Array {
  const data = new Float32Array(HYPER_BYTES / 4);
  data.set(values);
  return data;
}

function sgdChecks(options: SgdOptions): void {
  checkCommon(options);
  checkRange('momentum', options.momentum ?? 0, 0, Infinity);
  checkRange('dampening', options.dampening ?? 0, -Infinity, Infinity);
  if (options.nesterov && ((options.momentum ?? 0) <= 0 || (options.dampening ?? 0) !== 0)) {
    throw new UserError('Nesterov momentum needs momentum > 0 and dampening 0.');
  }
}

/**
 * Plans an SGD step. Bindings: (0) param, (1) grad, (2) momentum buffer (any buffer without
 * momentum), (3) uniform of sgdHyperparameters.
 */
export function planSgd(elements: number, options: SgdOptions, limits: PlanLimits): KernelPlan {
  sgdChecks(options);
  const flags = {
    USE_MOMENTUM: (options.momentum ?? 0) > 0,
    NESTEROV: options.nesterov ?? false,
    MAXIMIZE: options.maximize ?? false,
  };
  return planUpdate('sgd', sgdTemplate, elements, flags, 1, limits);
}

/** Returns the uniform values of SGD step `step` (1 for the first step). */
export function sgdHyperparameters(options: SgdOptions, step: number): Float32Array {
  sgdChecks(options);
  const { lr, momentum = 0, dampening = 0, weightDecay = 0 } = options;
  return hyper([lr, momentum, dampening, weightDecay, step === 1 ? 1 : 0]);
}

function adamDefaults(options: AdamOptions) {
  const decoupled = options.decoupled ?? false;
  const resolved = {
    lr: options.lr ?? 1e-3,
    betas: options.betas ?? [0.9, 0.999],
    eps: options.eps ?? 1e-8,
    weightDecay: options.weightDecay ?? (decoupled ? 1e-2 : 0),
  };
  checkCommon(resolved);
  resolved.betas.forEach((beta, k) => checkRange(`betas[${k}]`, beta, 0, 0.999999999));
  return resolved;
}

/**
 * Plans an Adam or AdamW step. Bindings: (0) param, (1) grad, (2) exp_avg, (3) exp_avg_sq,
 * (4) max_exp_avg_sq (any buffer without AMSGrad), (5) uniform of adamHyperparameters.
 */
export function planAdam(elements: number, options: AdamOptions, limits: PlanLimits): KernelPlan {
  adamDefaults(options);
  const flags = {
    DECOUPLED: options.decoupled ?? false,
    AMSGRAD: options.amsgrad ?? false,
    MAXIMIZE: options.maximize ?? false,
  };
  return planUpdate(options.decoupled ? 'adamw' : 'adam', adamTemplate, elements, flags, 3, limits);
}

/** Returns the uniform values of Adam step `step` (1 for the first step), with its bias corrections. */
export function adamHyperparameters(options: AdamOptions, step: number): Float32Array {
  const { lr, betas, eps, weightDecay } = adamDefaults(options);
  const [beta1, beta2] = betas;
  const stepSize = lr / (1 - beta1 ** step);
  const correction2Sqrt = Math.sqrt(1 - beta2 ** step);
  return hyper([lr, beta1, beta2, eps, weightDecay, stepSize, correction2Sqrt]);
}

function rmspropDefaults(options: RmspropOptions) {
  const resolved = {
    lr: options.lr ?? 1e-2,
    alpha: options.alpha ?? 0.99,
    eps: options.eps ?? 1e-8,
    weightDecay: options.weightDecay ?? 0,
    momentum: options.momentum ?? 0,
  };
  checkCommon(resolved);
  checkRange('alpha', resolved.alpha, 0, Infinity);
  checkRange('momentum', resolved.momentum, 0, Infinity);
  return resolved;
}

/**
 * Plans an RMSprop step. Bindings: (0) param, (1) grad, (2) square_avg, (3) grad_avg (any
 * buffer unless centered), (4) momentum buffer (any buffer without momentum), (5) uniform.
 */
export function planRmsprop(
  elements: number,
  options: RmspropOptions,
  limits: PlanLimits,
): KernelPlan {
  const { momentum } = rmspropDefaults(options);
  const flags = {
    CENTERED: options.centered ?? false,
    USE_MOMENTUM: momentum > 0,
    MAXIMIZE: options.maximize ?? false,
  };
  return planUpdate('rmsprop', rmspropTemplate, elements, flags, 3, limits);
}

/** Returns the uniform values of an RMSprop step. */
export function rmspropHyperparameters(options: RmspropOptions): Float32Array {
  const { lr, alpha, eps, weightDecay, momentum } = rmspropDefaults(options);
  return hyper([lr, alpha, eps, weightDecay, momentum]);
}

function adagradDefaults(options: AdagradOptions) {
  const resolved = {
    lr: options.lr ?? 1e-2,
    lrDecay: options.lrDecay ?? 0,
    weightDecay: options.weightDecay ?? 0,
    eps: options.eps ?? 1e-10,
  };
  checkCommon(resolved);
  checkRange('lrDecay', resolved.lrDecay, 0, Infinity);
  return resolved;
}

/** Plans an Adagrad step. Bindings: (0) param, (1) grad, (2) state_sum, (3) uniform. */
export function planAdagrad(
  elements: number,
  options: AdagradOptions,
  limits: PlanLimits,
): KernelPlan {
  adagradDefaults(options);
  const flags = { MAXIMIZE: options.maximize ?? false };
  return planUpdate('adagrad', adagradTemplate, elements, flags, 1, limits);
}

/** Returns the uniform values of Adagrad step `step` (1 for the first step). */
export function adagradHyperparameters(options: AdagradOptions, step: number): Float32Array {
  const { lr, lrDecay, weightDecay, eps } = adagradDefaults(options);
  return hyper([lr / (1 + (step - 1) * lrDecay), eps, weightDecay]);
}

function adadeltaDefaults(options: AdadeltaOptions) {
  const resolved = {
    lr: options.lr ?? 1,
    rho: options.rho ?? 0.9,
    eps: options.eps ?? 1e-6,
    weightDecay: options.weightDecay ?? 0,
  };
  checkCommon(resolved);
  checkRange('rho', resolved.rho, 0, 1);
  return resolved;
}

/**
 * Plans an Adadelta step. Bindings: (0) param, (1) grad, (2) square_avg, (3) acc_delta,
 * (4) uniform.
 */
export function planAdadelta(
  elements: number,
  options: AdadeltaOptions,
  limits: PlanLimits,
): KernelPlan {
  adadeltaDefaults(options);
  const flags = { MAXIMIZE: options.maximize ?? false };
  return planUpdate('adadelta', adadeltaTemplate, elements, flags, 2, limits);
}

/** Returns the uniform values of an Adadelta step. */
export function adadeltaHyperparameters(options: AdadeltaOptions): Float32Array {
  const { lr, rho, eps, weightDecay } = adadeltaDefaults(options);
  return hyper([lr, rho, eps, weightDecay]);
}
