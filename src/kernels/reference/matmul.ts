// Float64 CPU references of matmul, the fused epilogue activations and their gradients, for
// the kernel tests. Plain loops in the order of the definition, no tiling.

import type { Activation } from '../plan.js';
import type { MatmulGeometry } from '../matmul.js';

/** Applies the activation (leakyRelu slope or elu alpha in `parameter`). */
export function activateReference(x: number, activation: Activation, parameter: number): number {
  switch (activation) {
    case 'none':
      return x;
    case 'relu':
      return Math.max(x, 0);
    case 'leakyRelu':
      return x > 0 ? x : parameter * x;
    case 'elu':
      return x > 0 ? x : parameter * Math.expm1(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
  }
}

function aIndex(g: MatmulGeometry, z: number, m: number, k: number): number {
  const base = g.broadcastA ? 0 : z * g.m * g.k;
  return base + (g.transposeA ? k * g.m + m : m * g.k + k);
}

function bIndex(g: MatmulGeometry, z: number, k: number, n: number): number {
  const base = g.broadcastB ? 0 : z * g.k * g.n;
  return base + (g.transposeB ? n * g.k + k : k * g.n + n);
}

/** C[z] = op(A[z]) @ op(B[z]) (+ bias over n), without activation. */
export function matmulReference(
  g: MatmulGeometry,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  bias?: ArrayLike<number>,
): Float64Array {
  const c = new Float64Array(g.batch * g.m * g.n);
  for (let z = 0; z < g.batch; z++) {
    for (let m = 0; m < g.m; m++) {
      for (let n = 0; n < g.n; n++) {
        let sum = bias ? bias[n]! : 0;
        for (let k = 0; k < g.k; k++) sum += a[aIndex(g, z, m, k)]! * b[bIndex(g, z, k, n)]!;
        c[(z * g.m + m) * g.n + n] = sum;
      }
    }
  }
  return c;
}

/**
 * Vector-Jacobian product of matmulReference: given dC, returns dA and dB in the storage
 * layout of A and B (a broadcast operand gets the sum over z), and dBias.
 */
export function matmulReferenceGrad(
  g: MatmulGeometry,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  dc: ArrayLike<number>,
): { da: Float64Array; db: Float64Array; dbias: Float64Array } {
  const da = new Float64Array((g.broadcastA ? 1 : g.batch) * g.m * g.k);
  const db = new Float64Array((g.broadcastB ? 1 : g.batch) * g.k * g.n);
  const dbias = new Float64Array(g.n);
  for (let z = 0; z < g.batch; z++) {
    for (let m = 0; m < g.m; m++) {
      for (let n = 0; n < g.n; n++) {
        const grad = dc[(z * g.m + m) * g.n + n]!;
        dbias[n] += grad;
        for (let k = 0; k < g.k; k++) {
          da[aIndex(g, z, m, k)] += grad * b[bIndex(g, z, k, n)]!;
          db[bIndex(g, z, k, n)] += grad * a[aIndex(g, z, m, k)]!;
        }
      }
    }
  }
  return { da, db, dbias };
}
