// Float64 references of the pointwise losses and their gradients, from PyTorch's definitions.

import type { PointwiseLossGeometry } from '../losses.js';

type Pointwise = (x: number, t: number) => number;

function formulas(geometry: PointwiseLossGeometry): { value: Pointwise; grad: Pointwise } {
  const beta = geometry.beta ?? 1;
  const delta = geometry.delta ?? 1;
  switch (geometry.loss) {
    case 'mse':
      return { value: (x, t) => (x - t) ** 2, grad: (x, t) => 2 * (x - t) };
    case 'l1':
      return { value: (x, t) => Math.abs(x - t), grad: (x, t) => Math.sign(x - t) };
    case 'smoothL1':
      return {
        value: (x, t) => {
          const z = Math.abs(x - t);
          return z < beta ? (0.5 * z * z) / beta : z - 0.5 * beta;
        },
        grad: (x, t) => (Math.abs(x - t) < beta ? (x - t) / beta : Math.sign(x - t)),
      };
    case 'huber':
      return {
        value: (x, t) => {
          const z = Math.abs(x - t);
          return z < delta ? 0.5 * z * z : delta * (z - 0.5 * delta);
        },
        grad: (x, t) => Math.min(delta, Math.max(-delta, x - t)),
      };
    case 'bceWithLogits':
      return {
        value: (x, t) => (1 - t) * x + Math.log1p(Math.exp(-Math.abs(x))) + Math.max(-x, 0),
        grad: (x, t) => 1 / (1 + Math.exp(-x)) - t,
      };
    case 'focal': {
      const gamma = geometry.gamma ?? 2;
      const alpha = geometry.alpha;
      const factor = (t: number) => (alpha === undefined ? 1 : t * alpha + (1 - t) * (1 - alpha));
      const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
      const bce = (x: number, t: number) => (1 - t) * x + softplus(-x);
      const logQ = (x: number, t: number) => -softplus(x * (2 * t - 1));
      return {
        value: (x, t) => factor(t) * Math.exp(gamma * logQ(x, t)) * bce(x, t),
        grad: (x, t) => {
          const w = Math.exp(gamma * logQ(x, t));
          const dLogW = -gamma * (1 - Math.exp(logQ(x, t))) * (2 * t - 1);
          return factor(t) * w * (1 / (1 + Math.exp(-x)) - t + dLogW * bce(x, t));
        },
      };
    }
    case 'klDiv':
      return geometry.logTarget
        ? { value: (x, t) => Math.exp(t) * (t - x), grad: (_, t) => -Math.exp(t) }
        : { value: (x, t) => (t > 0 ? t * (Math.log(t) - x) : 0), grad: (_, t) => -t };
  }
}

/** Computes the reduced loss (or one per element for 'none') and its gradient times dLoss. */
export function pointwiseLossReference(
  geometry: PointwiseLossGeometry,
  x: ArrayLike<number>,
  target: ArrayLike<number>,
  dLoss: ArrayLike<number>,
): { loss: Float64Array; grad: Float64Array } {
  const { value, grad } = formulas(geometry);
  const reduction = geometry.reduction ?? 'mean';
  const values = Float64Array.from(x, (v, i) => value(v, target[i]!));
  const total = values.reduce((a, b) => a + b, 0);
  const divisor =
    reduction === 'mean' ? x.length : reduction === 'batchmean' ? geometry.shape[0]! : 1;
  const loss = reduction === 'none' ? values : Float64Array.of(total / divisor);
  const gradient = Float64Array.from(x, (v, i) => {
    const upstream = reduction === 'none' ? dLoss[i]! : dLoss[0]! / divisor;
    return grad(v, target[i]!) * upstream;
  });
  return { loss, grad: gradient };
}
