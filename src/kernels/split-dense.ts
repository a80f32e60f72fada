// Linear layers and 2D matrix products over tensors larger than maxStorageBufferBindingSize.
// Rows of A and C are contiguous, so a product splits by runs of rows with B bound whole.
// A product that reduces over the rows of A and B (A transposed, as in a linear layer's
// weight gradient dy^T x) splits by runs of those rows instead. Each run writes its partial
// product to scratch, and an ordered sum adds the runs to C in run order. No atomics are
// used, so every run gives the same bits.

import { planSplitSum } from './conv-wgrad.js';
import type { LowerContext, LoweredDispatch, Operand } from './lower.js';
import { planLinear, planMatmul, type MatmulGeometry } from './matmul.js';
import type { Epilogue, KernelPlan } from './plan.js';
import { splitUnits, unitDispatches, windowOf, type UnitRange } from './split.js';

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
 * binding limit. Without transposeA it splits by runs of C's rows. With transposeA it splits
 * by runs of the reduced rows of A and B, which needs B not transposed.
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

  const reduced = [
    { label: 'matmul A', elementsPerUnit: m },
    { label: 'matmul B', elementsPerUnit: n },
  ];
  // With B transposed, the reduced axis runs along B's columns, which no window of B's rows
  // can cut, so the product is planned whole (and rejected when it does not fit).
  const runs = transposeB ? [] : splitUnits(k, reduced, context.limits, 'row');
  if (runs.length <= 1) {
    const whole = [operands.a, operands.b, operands.bias, operands.c];
    return [{ plan: planMatmul(geometry, {}, context.limits), operands: whole }];
  }
  return reducedRuns(context, geometry, operands, runs);
}

/** Lowers A^T B as one product per run of reduced rows, each added to C in run order. */
function reducedRuns(
  context: LowerContext,
  geometry: MatmulGeometry,
  operands: DenseOperands,
  runs: readonly UnitRange[],
): LoweredDispatch[] {
  const { m, n } = geometry;
  const partial = context.scratch(m * n);
  const first = planSplitSum(1, m * n);
  const next = planSplitSum(1, m * n, { accumulate: true });
  const plans = new Map<number, KernelPlan>();
  const planFor = (count: number) => {
    if (!plans.has(count)) {
      plans.set(count, planMatmul({ ...geometry, batch: 1, k: count }, {}, context.limits));
    }
    return plans.get(count)!;
  };

  return runs.flatMap(({ start, count }, index) => [
    {
      plan: planFor(count),
      operands: [
        windowOf(operands.a, start * m, count * m),
        windowOf(operands.b, start * n, count * n),
        operands.bias,
        partial,
      ],
    },
    { plan: index === 0 ? first : next, operands: [partial, operands.c] },
  ]);
}
