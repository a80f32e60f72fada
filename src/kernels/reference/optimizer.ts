// Float64 references of the optimizer steps, written from torch.optim's single-tensor
// update rules (PyTorch 1.13). Each function updates `param` and `state` in place.

import type {
  AdadeltaOptions,
  AdagradOptions,
  AdamOptions,
  RmspropOptions,
  SgdOptions,
} from '../optimizer.js';

export type State = Record<string, Float64Array>;

function stateOf(state: State, name: string, length: number, initial = 0): Float64Array {
  state[name] ??= new Float64Array(length).fill(initial);
  return state[name]!;
}

const gradient = (grad: ArrayLike<number>, i: number, maximize?: boolean) =>
  maximize ? -grad[i]! : grad[i]!;

export function sgdStep(
  param: Float64Array,
  grad: ArrayLike<number>,
  state: State,
  options: SgdOptions,
  step: number,
): void {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
  const buffer = stateOf(state, 'momentum', param.length);
  for (let i = 0; i < param.length; i++) {
    let g = gradient(grad, i, options.maximize) + weightDecay * param[i]!;
    if (momentum > 0) {
      buffer[i] = step === 1 ? g : momentum * buffer[i]! + (1 - dampening) * g;
      g = nesterov ? g + momentum * buffer[i]! : buffer[i]!;
    }
    param[i]! -= lr * g;
  }
}

export function adamStep(
  param: Float64Array,
  grad: ArrayLike<number>,
  state: State,
  options: AdamOptions,
  step: number,
): void {
  const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, amsgrad = false } = options;
  const decoupled = options.decoupled ?? false;
  const weightDecay = options.weightDecay ?? (decoupled ? 1e-2 : 0);
  const [beta1, beta2] = betas;
  const m = stateOf(state, 'exp_avg', param.length);
  const v = stateOf(state, 'exp_avg_sq', param.length);
  const vMax = stateOf(state, 'max_exp_avg_sq', param.length);
  const stepSize = lr / (1 - beta1 ** step);
  const correction2Sqrt = Math.sqrt(1 - beta2 ** step);
  for (let i = 0; i < param.length; i++) {
    let g = gradient(grad, i, options.maximize);
    if (decoupled) param[i]! *= 1 - lr * weightDecay;
    else g += weightDecay * param[i]!;
    m[i] = beta1 * m[i]! + (1 - beta1) * g;
    v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
    let second = v[i]!;
    if (amsgrad) {
      vMax[i] = Math.max(vMax[i]!, v[i]!);
      second = vMax[i]!;
    }
    param[i]! -= (stepSize * m[i]!) / (Math.sqrt(second) / correction2Sqrt + eps);
  }
}

export function rmspropStep(
  param: Float64Array,
  grad: ArrayLike<number>,
  state: State,
  options: RmspropOptions,
): void {
  const { lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0 } = options;
  const square = stateOf(state, 'square_avg', param.length);
  const average = stateOf(state, 'grad_avg', param.length);
  const buffer = stateOf(state, 'momentum', param.length);
  for (let i = 0; i < param.length; i++) {
    const g = gradient(grad, i, options.maximize) + weightDecay * param[i]!;
    square[i] = alpha * square[i]! + (1 - alpha) * g * g;
    let avg = Math.sqrt(square[i]!) + eps;
    if (options.centered) {
      average[i] = alpha * average[i]! + (1 - alpha) * g;
      avg = Math.sqrt(square[i]! - average[i]! ** 2) + eps;
    }
    if (momentum > 0) {
      buffer[i] = momentum * buffer[i]! + g / avg;
      param[i]! -= lr * buffer[i]!;
    } else {
      param[i]! -= (lr * g) / avg;
    }
  }
}

export function adagradStep(
  param: Float64Array,
  grad: ArrayLike<number>,
  state: State,
  options: AdagradOptions,
  step: number,
  initialAccumulator = 0,
): void {
  const { lr = 1e-2, lrDecay = 0, weightDecay = 0, eps = 1e-10 } = options;
  const sum = stateOf(state, 'sum', param.length, initialAccumulator);
  const clr = lr / (1 + (step - 1) * lrDecay);
  for (let i = 0; i < param.length; i++) {
    const g = gradient(grad, i, options.maximize) + weightDecay * param[i]!;
    sum[i]! += g * g;
    param[i]! -= (clr * g) / (Math.sqrt(sum[i]!) + eps);
  }
}

export function adadeltaStep(
  param: Float64Array,
  grad: ArrayLike<number>,
  state: State,
  options: AdadeltaOptions,
): void {
  const { lr = 1, rho = 0.9, eps = 1e-6, weightDecay = 0 } = options;
  const square = stateOf(state, 'square_avg', param.length);
  const accumulated = stateOf(state, 'acc_delta', param.length);
  for (let i = 0; i < param.length; i++) {
    const g = gradient(grad, i, options.maximize) + weightDecay * param[i]!;
    square[i] = rho * square[i]! + (1 - rho) * g * g;
    const delta = (Math.sqrt(accumulated[i]! + eps) / Math.sqrt(square[i]! + eps)) * g;
    accumulated[i] = rho * accumulated[i]! + (1 - rho) * delta * delta;
    param[i]! -= lr * delta;
  }
}

/** torch.nn.utils.clip_grad_norm_ (L2): scales every gradient in place, returns the norm. */
export function clipGradNormReference(grads: Float64Array[], maxNorm: number): number {
  const norm = Math.sqrt(grads.reduce((total, g) => total + g.reduce((s, v) => s + v * v, 0), 0));
  const factor = Math.min(1, maxNorm / (norm + 1e-6));
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i]! *= factor;
  return norm;
}
