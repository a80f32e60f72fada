// The registry of vector-Jacobian rules, kept apart from the transform so that rule files
// can register themselves without an import cycle.

import type { Node, Shape, Value } from './ir.js';
import type { ForwardOpName, OpAttrs, OpName } from './ops/index.js';

/** What a rule may do: emit nodes into the backward pass. */
export interface VjpContext {
  emit<K extends OpName>(op: K, inputs: readonly Value[], attrs: OpAttrs[K]): Value[];
  /** Sums a broadcast gradient back to `shape` (NumPy broadcasting, trailing alignment). */
  sumToShape(grad: Value, shape: Shape): Value;
}

/**
 * A rule gets the forward node and the gradient of each output (undefined where no gradient
 * flows) and returns the gradient of each input (undefined for inputs that need none).
 */
export type VjpRule = (
  context: VjpContext,
  node: Node,
  outputGrads: readonly (Value | undefined)[],
) => (Value | undefined)[];

const rules = new Map<string, VjpRule>();

/** Registers the vector-Jacobian rule of a forward op; the rule files call this. */
export function registerVjp(op: ForwardOpName, rule: VjpRule): void {
  rules.set(op, rule);
}

export function hasVjp(op: ForwardOpName): boolean {
  return rules.has(op);
}

export function getVjp(op: OpName): VjpRule | undefined {
  return rules.get(op);
}
