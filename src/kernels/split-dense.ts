// Linear layers and 2D matrix products over tensors larger than maxStorageBufferBindingSize.
// Rows of A and C are contiguous, so a product splits by runs of rows with B bound whole.
// A product that reduces over the rows of A and B (A transposed: a linear layer's weight
// gradient dy^T x) splits by runs of those rows instead: each run writes its partial product
// to scratch, and an ordered sum adds the runs to C in run order, without atomics, so every
// run gives the same bits.

import { planSplitSum } from './conv-wgrad.js';
import type { LowerContext, LoweredDispatch, Operand } from './lower.js';
import { planLinear, planMatmul, type MatmulGeometry } from './matmul.js';
import type { Epilogue } from './plan.js';
import { splitUnits, unitDispatches, windowOf } from './split.js';

/** A 2D product C[m, n] = op(A) op(B) and its operands; `bias` is unused for matmul nodes. */
export interface DenseOperands {
  a: Operand;
  b: Operand;
  bias: Operand;
  c: Operand;
}

/**
 * Lowers y = epilogue(x weight^T + bias) for x [rows, inFeatures], split by runs of rows when
 * x or y exceeds the binding limit. The weight and bias are bound whole.
 */
export function lowerLinearRows(
  context: LowerContext,
  geometry: { batch: number; inFeatures: number; outFeatures: number },
  settings: Epilogue,
  operands: DenseOperands,
): LoweredDispatch[] {
  const { batch, inFeatures, outFeatures } = geometry;
  const units = [
    { operand: operands.a, label: 'linear input', elementsPerUnit: inFeatures },
    { operand: operands.b, label: 'linear weight', elementsPerUnit: 0 },
    { operand: operands.bias, label: 'linear bias', elementsPerUnit: 0 },
    { operand: operands.c, label: 'linear output', elementsPerUnit: outFeatures },
  ];
  return unitDispatches(batch, units, context.limits, 'row', (rows) =>
    planLinear({ batch: rows, inFeatures, outFeatures }, settings, context.limits),
  );
}

/**
 * Lowers a 2D matrix product (batch 1, no broadcasting), split when an operand exceeds the
 * binding limit: by runs of C's rows without transposeA, by runs of the reduced rows of A and
 * B with transposeA (then B must not be transposed).
 */
export function lowerMatmul2d(
  context: LowerContext,
  geometry: MatmulGeometry,
  operands: DenseOperands,
): LoweredDispatch[] {
  const { m, n, k, transposeA = false, transposeB = false } = geometry;
  if (!transposeA) {
    const units = [
      { operand: operands.a, label: 'matmul A', elementsPerUnit: k },
      { operand: operands.b, label: 'matmul B', elementsPerUnit: 0 },
      { operand: operands.bias, label: 'unused', elementsPerUnit: 0 },
      { operand: operands.c, label: 'matmul C', elementsPerUnit: n },
    ];
    return unitDispatches(m, units, context.limits, 'row', (rows) =>
      planMatmul({ ...geometry, batch: 1, m: rows }, {}, context.limits),
    );
  }
  const whole = [operands.a, operands.b, operands.bias, operands.c];
  if (transposeB) {
    // B^T's reduced axis runs along B's rows, which a window of B cannot cut.
    return [{ plan: planMatmul(geometry, {}, context.limits), operands: whole }];
  }
  const reduced = [
    { label: 'matmul A', elementsPerUnit: m },
    { label: 'matmul B', elementsPerUnit: n },
  ];
  const runs = splitUnits(k, reduced, context.limits, 'row');
  if (runs.length === 1) {
    return [{ plan: planMatmul(geometry, {}, context.limits), operands: whole }];
  }
  const partial = context.scratch(m * n);
  const first = planSplitSum(1, m * n);
  const next = planSplitSum(1, m * n, { accumulate: true });
  const plans = new Map<number, ReturnType<typeof planMatmul>>();
  return runs.flatMap(({ start, count }, index) => {
    if (!plans.has(count)) {
      plans.set(count, planMatmul({ ...geometry, batch: 1, k: count }, {}, context.limits));
    }
    return [
      {
        plan: plans.get(count)!,
        operands: [
          windowOf(operands.a, start * m, count * m),
          windowOf(operands.b, start * n, count * n),
          operands.bias,
          partial,
        ],
      },
      { plan: index === 0 ? first : next, operands: [partial, operands.c] },
    ];
  });
}
