// Lowers an optimizer configuration into one in-place update dispatch per trainable
// parameter, with the optimizer's state tensors (moments, accumulators) kept across steps
// and a uniform buffer of hyper-parameters that the host rewrites before each step.

import type { Value } from '../graph/ir.js';
import { numElements } from '../graph/ir.js';
import { valueForParam, type OptimizerConfig } from '../optim/optimizers.js';
import { UNUSED, value, type LowerContext, type LoweredDispatch, type Operand } from './lower.js';
import {
  adadeltaHyperparameters,
  adagradHyperparameters,
  adamHyperparameters,
  HYPER_BYTES,
  planAdadelta,
  planAdagrad,
  planAdam,
  planRmsprop,
  planSgd,
  rmspropHyperparameters,
  sgdHyperparameters,
} from './optimizer.js';

/** One parameter to update and its gradient. */
export interface ParameterUpdate {
  param: Value;
  grad: Value;
}

/** Returns the kernel options of `config` for one parameter, with per-group values resolved. */
function optionsFor(config: OptimizerConfig, name: string, lrFactor: number) {
  const lr = valueForParam('lr', config.lr, name) * lrFactor;
  const weightDecay = valueForParam('weightDecay', config.weightDecay, name);
  const maximize = config.maximize;
  switch (config.name) {
    case 'SGD':
      return {
        lr,
        weightDecay,
        maximize,
        momentum: valueForParam('momentum', config.momentum, name),
        dampening: valueForParam('dampening', config.dampening, name),
        nesterov: config.nesterov,
      };
    case 'Adam':
    case 'AdamW':
      return {
        lr,
        weightDecay,
        maximize,
        betas: config.betas,
        eps: config.eps,
        amsgrad: config.amsgrad,
        decoupled: config.name === 'AdamW',
      };
    case 'RMSprop':
      return {
        lr,
        weightDecay,
        maximize,
        alpha: config.alpha,
        eps: config.eps,
        momentum: valueForParam('momentum', config.momentum, name),
        centered: config.centered,
      };
    case 'Adagrad':
      return { lr, weightDecay, maximize, lrDecay: config.lrDecay, eps: config.eps };
    case 'Adadelta':
      return { lr, weightDecay, maximize, rho: config.rho, eps: config.eps };
  }
}

const hyperKey = (name: string) => `hyper:${name}`;

/**
 * Lowers the update of every parameter, in order. `gradientOf` names the tensor holding
 * each parameter's gradient: by default its IR value, or an accumulator.
 */
export function lowerOptimizer(
  context: LowerContext,
  config: OptimizerConfig,
  updates: readonly ParameterUpdate[],
  gradientOf: (update: ParameterUpdate) => Operand = ({ grad }) => value(grad),
): LoweredDispatch[] {
  return updates.map((update) => {
    const { param } = update;
    const name = param.name!;
    const elements = numElements(param.shape);
    const state = (slot: string, fill = 0): Operand => ({
      kind: 'state',
      key: `${config.name}:${name}:${slot}`,
      elements,
      fill,
    });
    const uniform: Operand = { kind: 'uniform', key: hyperKey(name), bytes: HYPER_BYTES };
    const head = [value(param), gradientOf(update)];
    const limits = context.limits;
    const options = optionsFor(config, name, 1);
    switch (config.name) {
      case 'SGD': {
        const plan = planSgd(elements, options as Parameters<typeof planSgd>[1], limits);
        const momentum = (options as { momentum: number }).momentum > 0;
        return { plan, operands: [...head, momentum ? state('momentum_buffer') : UNUSED, uniform] };
      }
      case 'Adam':
      case 'AdamW': {
        const plan = planAdam(elements, options, limits);
        const max = config.amsgrad ? state('max_exp_avg_sq') : UNUSED;
        return { plan, operands: [...head, state('exp_avg'), state('exp_avg_sq'), max, uniform] };
      }
      case 'RMSprop': {
        const plan = planRmsprop(elements, options, limits);
        const average = config.centered ? state('grad_avg') : UNUSED;
        const momentum = (options as { momentum: number }).momentum > 0;
        const buffer = momentum ? state('momentum_buffer') : UNUSED;
        return { plan, operands: [...head, state('square_avg'), average, buffer, uniform] };
      }
      case 'Adagrad': {
        const plan = planAdagrad(elements, options, limits);
        const sum = state('sum', config.initialAccumulatorValue);
        return { plan, operands: [...head, sum, uniform] };
      }
      case 'Adadelta': {
        const plan = planAdadelta(elements, options, limits);
        return { plan, operands: [...head, state('square_avg'), state('acc_delta'), uniform] };
      }
    }
  });
}

function hyperparameters(config: OptimizerConfig, name: string, step: number, lrFactor: number) {
  const options = optionsFor(config, name, lrFactor);
  switch (config.name) {
    case 'SGD':
      return sgdHyperparameters(options as Parameters<typeof sgdHyperparameters>[0], step);
    case 'Adam':
    case 'AdamW':
      return adamHyperparameters(options, step);
    case 'RMSprop':
      return rmspropHyperparameters(options);
    case 'Adagrad':
      return adagradHyperparameters(options, step);
    case 'Adadelta':
      return adadeltaHyperparameters(options);
  }
}

/**
 * Computes the hyper-parameter uniforms of every parameter for step `step` (1 for the first), with
 * the learning rate scaled by `lrFactor` (the schedule's current learning rate over its base).
 */
export function optimizerUniforms(
  config: OptimizerConfig,
  updates: readonly ParameterUpdate[],
  step: number,
  lrFactor: number,
): Map<string, Float32Array> {
  const uniforms = new Map<string, Float32Array>();
  for (const { param } of updates) {
    uniforms.set(hyperKey(param.name!), hyperparameters(config, param.name!, step, lrFactor));
  }
  return uniforms;
}
