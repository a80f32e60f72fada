// Epilogue fusion: an activation that directly follows a convolution, transposed convolution
// or linear layer is applied by that layer's kernel as it stores its output, so the
// pre-activation tensor is never written and the activation costs no pass of its own. It
// applies when the pre-activation has no other reader but the activation's own gradient, and
// that gradient can be computed from the activation's output instead: relu and leakyRelu
// (whose derivative depends only on the sign, which the output keeps), sigmoid and tanh
// (whose gradients read the output anyway).

import type { Graph, Node, Value } from '../graph/ir.js';
import type { Operand } from './lower.js';
import type { Activation } from './plan.js';

export interface FusedActivation {
  activation: Activation;
  /** leakyRelu's slope. */
  parameter?: number;
  /** The last fused node, whose output the producer's kernel writes. */
  node: Node;
  /** An eval-mode batch norm folded into a convolution: with or without weight and bias. */
  norm?: 'plain' | 'affine';
  /** The other addend of a residual addition folded into a convolution. */
  residual?: Value;
  /** Bound after the output when norm or residual is set: stats, weight, bias, residual. */
  operands?: Operand[];
}

const PRODUCERS = new Set(['conv', 'convTranspose', 'linear']);

function epilogueOf(node: Node): Omit<FusedActivation, 'node'> | undefined {
  switch (node.op) {
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      return { activation: node.op };
    case 'leakyRelu': {
      const slope = (node.attrs as { negativeSlope: number }).negativeSlope;
      // A negative slope flips the sign, so the gradient could not be read off the output.
      return slope >= 0 ? { activation: 'leakyRelu', parameter: slope } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Finds the producer-activation pairs of `graph` to fuse. Returns the activation of each
 * producer node id and the set of activation node ids whose dispatch disappears.
 */
export function findEpilogueFusions(graph: Graph, keep: readonly Value[]) {
  const readers = new Map<number, Node[]>();
  for (const node of graph.nodes) {
    for (const input of node.inputs)
      readers.set(input.id, [...(readers.get(input.id) ?? []), node]);
  }
  const kept = new Set([...keep, ...graph.outputs.map((output) => output.value)].map((v) => v.id));
  const byProducer = new Map<number, FusedActivation>();
  const fused = new Set<number>();
  for (const node of graph.nodes) {
    if (!PRODUCERS.has(node.op)) continue;
    const output = node.outputs[0]!;
    if (kept.has(output.id)) continue;
    const consumers = readers.get(output.id) ?? [];
    const activations = consumers.filter(
      (reader) => epilogueOf(reader) && reader.inputs[0] === output,
    );
    if (activations.length !== 1) continue;
    const activation = activations[0]!;
    const others = consumers.filter((reader) => reader !== activation);
    // The only other reader allowed is the activation's gradient, which then reads the output.
    const gradientOnly = others.every(
      (reader) =>
        reader.op === 'unaryGrad' &&
        reader.inputs[1] === output &&
        reader.inputs[2] === activation.outputs[0],
    );
    if (!gradientOnly) continue;
    byProducer.set(node.id, { ...epilogueOf(activation)!, node: activation });
    fused.add(activation.id);
  }
  return { byProducer, fused };
}
