// Epilogue fusion: element-wise nodes that directly follow a convolution, transposed
// convolution or linear layer are applied by that layer's kernel as it stores its output. A
// normalisation's kernel likewise applies the activation that follows it.
// The intermediate tensors are then never written, and the fused nodes cost no pass of their
// own.
// A producer's chain is, in order and each step optional:
//   - an eval-mode batch norm with running statistics (convolution only), applied from the
//     statistics that bn-running.wgsl writes, as norm-apply.wgsl would apply it;
//   - an addition of a tensor of the output's shape, such as a residual (convolution only);
//   - an activation. In training graphs its gradient must be computable from its output:
//     relu and leakyRelu (whose derivative depends only on the sign, which the output keeps),
//     sigmoid and tanh (whose gradients read the output anyway).
// Every intermediate value must have the next node of the chain as its only reader, except
// that the activation's input may also be read by the activation's own gradient.

import type { Graph, Node, Value } from '../graph/ir.js';
import type { BatchNormAttrs } from '../graph/ops/index.js';
import { UNUSED, value, type LowerContext, type LoweredDispatch, type Operand } from './lower.js';
import { normStatsElements, planBatchNormRunning, type NormGeometry } from './norm.js';
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

/** A producer's fused chain, as findEpilogueFusions returns it. */
export interface EpilogueFusion extends FusedActivation {
  /** The fused nodes in graph order; the last one is `node`. */
  nodes: Node[];
  /** The folded batch-norm node, when `norm` is set. */
  normNode?: Node;
}

export interface EpilogueFusions {
  /** The fused chain of each producer, by producer node id. */
  byProducer: Map<number, EpilogueFusion>;
  /** Ids of the fused nodes, whose dispatches disappear. */
  fused: Set<number>;
}

const PRODUCERS = new Set(['conv', 'convTranspose', 'linear']);
/** Norms whose apply kernel (norm-apply.wgsl) takes a fused activation, and nothing else. */
const NORM_PRODUCERS = new Set(['batchNorm', 'instanceNorm', 'groupNorm', 'layerNorm']);

function activationOf(node: Node): Pick<FusedActivation, 'activation' | 'parameter'> | undefined {
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

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, axis) => size === b[axis]);
}

/** Graph facts that the chain search reads. */
interface ChainContext {
  readers: Map<number, Node[]>;
  kept: Set<number>;
  claimed: Set<number>;
  training: boolean;
}

/** Returns the only reader of `v`, when it has exactly one and `v` is not read back. */
function soleReader(v: Value, chain: ChainContext): Node | undefined {
  const readers = chain.readers.get(v.id) ?? [];
  if (chain.kept.has(v.id) || readers.length !== 1) return undefined;
  const [reader] = readers;
  return chain.claimed.has(reader!.id) ? undefined : reader;
}

function foldableNorm(node: Node, input: Value, chain: ChainContext): boolean {
  const attrs = node.attrs as BatchNormAttrs;
  return (
    node.op === 'batchNorm' &&
    !chain.training &&
    attrs.trackRunningStats &&
    node.inputs[0] === input
  );
}

/** Returns the other addend when `node` adds a tensor of `input`'s shape to it. */
function residualOf(node: Node, input: Value): Value | undefined {
  if (node.op !== 'add') return undefined;
  const [a, b] = node.inputs as [Value, Value];
  let other: Value | undefined;
  if (a === input) other = b;
  else if (b === input) other = a;
  if (!other || other === input || !sameShape(other.shape, input.shape)) return undefined;
  return other;
}

/** Returns the activation after `input`, when its other readers are only its gradient. */
function fusableActivation(input: Value, chain: ChainContext): Node | undefined {
  if (chain.kept.has(input.id)) return undefined;
  const readers = chain.readers.get(input.id) ?? [];
  const activations = readers.filter(
    (reader) => activationOf(reader) && reader.inputs[0] === input && !chain.claimed.has(reader.id),
  );
  if (activations.length !== 1) return undefined;
  const activation = activations[0]!;
  const others = readers.filter((reader) => reader !== activation);
  const gradientOnly = others.every(
    (reader) =>
      reader.op === 'unaryGrad' &&
      reader.inputs[1] === input &&
      reader.inputs[2] === activation.outputs[0],
  );
  return gradientOnly ? activation : undefined;
}

function findChain(producer: Node, chain: ChainContext): EpilogueFusion | undefined {
  const nodes: Node[] = [];
  const fusion: Partial<EpilogueFusion> = { activation: 'none' };
  let current = producer.outputs[0]!;
  const convolution = producer.op === 'conv' || producer.op === 'convTranspose';
  if (NORM_PRODUCERS.has(producer.op)) {
    const activation = fusableActivation(current, chain);
    if (!activation) return undefined;
    return { ...activationOf(activation)!, nodes: [activation], node: activation };
  }
  let next = soleReader(current, chain);
  if (convolution && next && foldableNorm(next, current, chain)) {
    fusion.norm = (next.attrs as BatchNormAttrs).affine ? 'affine' : 'plain';
    fusion.normNode = next;
    nodes.push(next);
    current = next.outputs[0]!;
    next = soleReader(current, chain);
  }
  const residual = convolution && next ? residualOf(next, current) : undefined;
  if (residual) {
    fusion.residual = residual;
    nodes.push(next!);
    current = next!.outputs[0]!;
  }
  const activation = fusableActivation(current, chain);
  if (activation) {
    Object.assign(fusion, activationOf(activation));
    nodes.push(activation);
  }
  if (nodes.length === 0) return undefined;
  return { ...fusion, nodes, node: nodes.at(-1)! } as EpilogueFusion;
}

/**
 * Finds the chains of `graph` to fuse into their producers. Batch norms are folded only in
 * eval-mode graphs (`training` false), where they normalise with running statistics. Values
 * in `keep` are read back, so they end every chain.
 */
export function findEpilogueFusions(
  graph: Graph,
  keep: readonly Value[],
  training = true,
): EpilogueFusions {
  const readers = new Map<number, Node[]>();
  for (const node of graph.nodes) {
    for (const input of new Set(node.inputs)) {
      readers.set(input.id, [...(readers.get(input.id) ?? []), node]);
    }
  }
  const kept = new Set([...keep, ...graph.outputs.map((output) => output.value)].map((v) => v.id));
  const chain: ChainContext = { readers, kept, claimed: new Set(), training };
  const byProducer = new Map<number, EpilogueFusion>();
  for (const node of graph.nodes) {
    if (!PRODUCERS.has(node.op) && !NORM_PRODUCERS.has(node.op)) continue;
    // A norm folded into its convolution has no kernel of its own to fuse into.
    if (chain.claimed.has(node.id)) continue;
    const fusion = findChain(node, chain);
    if (!fusion) continue;
    byProducer.set(node.id, fusion);
    for (const fused of fusion.nodes) chain.claimed.add(fused.id);
  }
  return { byProducer, fused: chain.claimed };
}

/**
 * Lowers what a folded batch norm needs before its convolution runs: bn-running.wgsl in
 * evaluation writes [mean, invstd, variance] per channel from the running statistics. Sets
 * `fusion.operands` to the convolution's extra bindings.
 */
export function lowerFoldedEpilogue(
  fusion: EpilogueFusion,
  context: LowerContext,
): LoweredDispatch[] {
  const dispatches: LoweredDispatch[] = [];
  const operands: Operand[] = [UNUSED, UNUSED, UNUSED, UNUSED];
  const norm = fusion.normNode;
  if (norm) {
    const attrs = norm.attrs as BatchNormAttrs;
    const x = norm.inputs[0]!;
    // bn-running reads only per-channel tensors, so the input is not bound: one value per
    // channel keeps the planner's binding-size check off the convolution's output.
    const geometry: NormGeometry = {
      kind: 'batchNorm',
      inputShape: [1, x.shape[1]!],
      eps: attrs.eps,
      affine: attrs.affine,
      momentum: attrs.momentum,
    };
    const stats = context.saved(
      `folded-norm:${norm.id}`,
      normStatsElements(geometry, context.limits),
    );
    const first = attrs.affine ? 3 : 1;
    dispatches.push({
      plan: planBatchNormRunning(geometry, false, context.limits),
      operands: [stats, value(norm.inputs[first]!), value(norm.inputs[first + 1]!)],
    });
    operands[0] = stats;
    if (attrs.affine) [operands[1], operands[2]] = [value(norm.inputs[1]!), value(norm.inputs[2]!)];
  }
  if (fusion.residual) operands[3] = value(fusion.residual);
  if (norm || fusion.residual) fusion.operands = operands;
  return dispatches;
}
