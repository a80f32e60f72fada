// Gradient checkpointing as a graph transform on a training graph from appendBackward. The
// forward nodes are cut into segments. Activations that stay inside a segment are not kept
// for the backward pass. Instead, the segment's nodes are copied into the backward pass, just
// before the first gradient node that reads them, and recompute those activations from the
// values that cross segment boundaries. The memory planner then frees the forward activations
// early, so the planned peak drops, and the step is still one command buffer.
//
// Recomputation repeats the same kernels on the same inputs, so losses, gradients and weights
// keep their bits. Two ops carry state and are copied differently:
//   - batchNorm is recomputed without running statistics, so they are updated once per step;
//     in train mode it normalises with the batch statistics either way;
//   - dropout is recomputed as dropoutGrad of the original node, which applies the original
//     node's mask (same seed uniform, same counter-based generator) to its input.

import { UserError } from '../errors.js';
import type { DropoutAttrs, BatchNormAttrs } from './ops/index.js';
import { numElements, type Graph, type Node, type Value } from './ir.js';

/**
 * Choice of the activations a training step recomputes instead of keeping. 'none' keeps every
 * activation. `{ segments: k }` cuts the forward pass into k segments of about equal
 * activation size and recomputes every segment but the last, whose backward pass runs right
 * after it. 'auto' picks the k with the lowest peak memory: estimatePeakBytes ranks every k,
 * and the caller's measure (the memory planner, in TrainingProgram) decides among the best.
 */
export type CheckpointOption = 'none' | 'auto' | { segments: number };

/**
 * Quantity that segments share about equally: activation bytes, or forward nodes. Nodes suit
 * networks whose activations shrink with depth, such as a ResNet, whose stem has the largest.
 */
export type SegmentBalance = 'bytes' | 'nodes';

export interface CheckpointResult {
  /** Segments the forward pass was cut into; 1 when nothing is recomputed. */
  segments: number;
  /** Quantity the segments share about equally; `{ segments }` always balances bytes. */
  balance: SegmentBalance;
  /** Forward nodes copied into the backward pass. */
  recomputedNodes: number;
  /** The estimate 'auto' minimises: peak bytes of live activations in node order. */
  estimatedPeakBytes: number;
}

/** Estimates are made for at most this many segment counts. */
const MAX_AUTO_CANDIDATES = 64;
/** Segment counts with the lowest estimates that 'auto' then measures, besides 1. */
const AUTO_SHORTLIST = 3;

/** Bytes a checkpointed training graph needs, as the caller counts them (its planned memory). */
export type MemoryMeasure = (graph: Graph) => number;

/**
 * Applies `option` to `graph`, a training graph whose first `forwardCount` nodes are the
 * forward pass (loss included), in place. Values in `keep` are read back and always kept.
 * 'auto' compares its shortlisted segment counts with `measure` (default: the estimate).
 */
export function checkpointGraph(
  graph: Graph,
  forwardCount: number,
  keep: readonly Value[],
  option: CheckpointOption,
  measure?: MemoryMeasure,
): CheckpointResult {
  const kept = keptIds(graph, keep);
  if (option === 'none') return summary(graph, { segments: 1, balance: 'bytes' }, 0, kept);
  if (option === 'auto') {
    const cut = bestCut(graph, forwardCount, kept, measure);
    return summary(graph, cut, recompute(graph, forwardCount, kept, cut), kept);
  }
  const segments = option?.segments;
  if (!Number.isInteger(segments) || segments < 1) {
    throw new UserError(
      `checkpoint.segments must be an integer >= 1, got ${JSON.stringify(segments)}; ` +
        "use 'none', 'auto' or { segments: k }.",
    );
  }
  if (segments > forwardCount) {
    throw new UserError(
      `checkpoint.segments is ${segments} but the forward pass has only ${forwardCount} ` +
        `nodes; use at most ${forwardCount} or 'auto'.`,
    );
  }
  const cut: Cut = { segments, balance: 'bytes' };
  return summary(graph, cut, recompute(graph, forwardCount, kept, cut), kept);
}

function keptIds(graph: Graph, keep: readonly Value[]): Set<number> {
  return new Set([...keep, ...graph.outputs.map((output) => output.value)].map((v) => v.id));
}

/** Segment count and balance of a cut of the forward pass. */
interface Cut {
  segments: number;
  balance: SegmentBalance;
}

function summary(graph: Graph, cut: Cut, recomputedNodes: number, kept: Set<number>) {
  return { ...cut, recomputedNodes, estimatedPeakBytes: estimatePeakBytes(graph, kept) };
}

/**
 * Estimates every segment count with either balance on a copy, then measures no
 * checkpointing and the AUTO_SHORTLIST best estimates, and returns the cut with the fewest
 * bytes (the fewer segments on a tie, because they recompute less).
 */
function bestCut(
  graph: Graph,
  forwardCount: number,
  kept: Set<number>,
  measure: MemoryMeasure = (copy) => estimatePeakBytes(copy, kept),
): Cut {
  const estimates: { cut: Cut; bytes: number; copy: Graph }[] = [];
  const candidates = Math.min(forwardCount, MAX_AUTO_CANDIDATES);
  for (const balance of ['bytes', 'nodes'] as const) {
    for (let segments = 2; segments <= candidates; segments++) {
      const copy = graph.clone();
      const cut = { segments, balance };
      recompute(copy, forwardCount, kept, cut);
      estimates.push({ cut, bytes: estimatePeakBytes(copy, kept), copy });
    }
  }
  estimates.sort((a, b) => a.bytes - b.bytes || a.cut.segments - b.cut.segments);
  let best = { cut: { segments: 1, balance: 'bytes' } as Cut, bytes: measure(graph) };
  for (const { cut, copy } of estimates.slice(0, AUTO_SHORTLIST)) {
    const bytes = measure(copy);
    if (bytes < best.bytes || (bytes === best.bytes && cut.segments < best.cut.segments)) {
      best = { cut, bytes };
    }
  }
  return best.cut;
}

/**
 * Peak bytes of live activations when the nodes run in order: an activation is live from
 * its node to its last reader. Inputs, state, constants and kept values are not counted.
 * NOTE: this is an estimate, because the planner's buffers also depend on fusion (which
 * removes pre-activation tensors), aliasing and packing.
 */
export function estimatePeakBytes(graph: Graph, kept: ReadonlySet<number> = new Set()): number {
  const lastUse = new Map<number, number>();
  graph.nodes.forEach((node, index) => {
    for (const input of node.inputs) lastUse.set(input.id, index);
  });
  const dying = new Map<number, number>();
  let live = 0;
  let peak = 0;
  graph.nodes.forEach((node, index) => {
    for (const output of node.outputs) {
      if (kept.has(output.id)) continue;
      const bytes = 4 * numElements(output.shape);
      live += bytes;
      const last = lastUse.get(output.id) ?? index;
      dying.set(last, (dying.get(last) ?? 0) + bytes);
    }
    peak = Math.max(peak, live);
    live -= dying.get(index) ?? 0;
  });
  return peak;
}

/**
 * Cuts the forward nodes into `segments` and rewrites `graph` to recompute all but the last.
 * Returns the number of forward nodes copied.
 */
function recompute(graph: Graph, forwardCount: number, kept: Set<number>, cut: Cut): number {
  const { segments } = cut;
  if (segments <= 1) return 0;
  const forward = graph.nodes.slice(0, forwardCount);
  const backward = graph.nodes.slice(forwardCount);
  const segmentOf = assignSegments(forward, cut);
  const recomputable = recomputableValues(forward, segmentOf, kept, segments);

  const copies = new Map<number, Value>();
  const groups = new Map<Node, Node[]>();
  let copied = 0;
  const rewired = new Map(backward.map((node) => [node, recomputedReads(node, recomputable)]));
  for (let segment = 0; segment < segments - 1; segment++) {
    const needed = backward.flatMap((node) =>
      rewired.get(node)!.filter((input) => recomputable.get(input.id) === segment),
    );
    if (needed.length === 0) continue;
    const closure = closureOf(needed, recomputable, forward);
    const anchor = backward.find((node) =>
      rewired.get(node)!.some((input) => needed.includes(input)),
    )!;
    const start = graph.nodes.length;
    for (const node of closure) copyNode(graph, node, copies);
    groups.set(anchor, [...(groups.get(anchor) ?? []), ...graph.nodes.slice(start)]);
    copied += closure.length;
  }
  for (const node of backward) {
    const reads = rewired.get(node)!;
    const inputs = node.inputs.map((input) =>
      reads.includes(input) ? (copies.get(input.id) ?? input) : input,
    );
    (node as { inputs: readonly Value[] }).inputs = inputs;
  }
  const order = [...forward];
  for (const node of backward) order.push(...(groups.get(node) ?? []), node);
  graph.nodes.splice(0, graph.nodes.length, ...order);
  return copied;
}

/** Activations that the kernels apply in a producer's epilogue, with output-only gradients. */
const FUSED_ACTIVATIONS = new Set(['relu', 'leakyRelu', 'sigmoid', 'tanh']);
const FUSION_PRODUCERS = new Set(['conv', 'convTranspose', 'linear']);

/**
 * The recomputable inputs of backward `node` that must be recomputed. The exception is the
 * input of an activation fused into its producer (src/kernels/fuse.ts) when the activation's
 * output is kept: that input is never written, and the gradient reads the kept output.
 */
function recomputedReads(node: Node, recomputable: Map<number, number>): Value[] {
  const reads = node.inputs.filter((input) => recomputable.has(input.id));
  if (node.op !== 'unaryGrad') return reads;
  const [, x, y] = node.inputs as [Value, Value, Value];
  const { op, attrs } = node.attrs as { op: string; attrs: { negativeSlope?: number } };
  const fused =
    FUSED_ACTIVATIONS.has(op) &&
    (attrs.negativeSlope ?? 0) >= 0 &&
    FUSION_PRODUCERS.has(x.producer?.op ?? '') &&
    !recomputable.has(y.id);
  return fused ? reads.filter((input) => input !== x) : reads;
}

/**
 * Returns the segment index of each forward node. Cuts fall near equal shares of the
 * balanced quantity, each at the position within half a segment of its target where the
 * fewest activation bytes cross.
 */
function assignSegments(forward: readonly Node[], { segments, balance }: Cut): number[] {
  const weights = forward.map((node) =>
    balance === 'nodes'
      ? 1
      : node.outputs.reduce((sum, output) => sum + 4 * numElements(output.shape), 0),
  );
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const crossing = crossingBytes(forward);
  const cumulative: number[] = [];
  weights.reduce((sum, weight, index) => (cumulative[index] = sum + weight), 0);
  const cuts: number[] = [];
  const half = Math.max(1, Math.floor(forward.length / segments / 2));
  for (let j = 1; j < segments; j++) {
    const previous = cuts.at(-1) ?? 0;
    // Cut c puts nodes [c, ...) in the next segment; it must leave a node for each segment.
    const target = cumulative.findIndex((sum) => sum >= (j * total) / segments) + 1;
    const latest = forward.length - (segments - j);
    const low = Math.min(Math.max(previous + 1, target - half), latest);
    const high = Math.min(latest, Math.max(low, target + half));
    let best = low;
    for (let cut = low; cut <= high; cut++) {
      const better = crossing[cut]! < crossing[best]!;
      const closer =
        crossing[cut] === crossing[best] && Math.abs(cut - target) < Math.abs(best - target);
      if (better || closer) best = cut;
    }
    cuts.push(best);
  }
  return forward.map((_, index) => cuts.filter((cut) => cut <= index).length);
}

/** Bytes of the activations produced before position c and read at or after it, per c. */
function crossingBytes(forward: readonly Node[]): number[] {
  const position = new Map<number, number>();
  const lastRead = new Map<number, number>();
  forward.forEach((node, index) => {
    for (const output of node.outputs) position.set(output.id, index);
    for (const input of node.inputs) lastRead.set(input.id, index);
  });
  const crossing = new Array<number>(forward.length + 1).fill(0);
  for (const node of forward) {
    for (const output of node.outputs) {
      const first = position.get(output.id)! + 1;
      const last = lastRead.get(output.id) ?? -1;
      for (let cut = first; cut <= last; cut++) crossing[cut]! += 4 * numElements(output.shape);
    }
  }
  return crossing;
}

/**
 * Returns the activations that can be recomputed, with their segment: produced in a segment other
 * than the last, read by forward nodes of that segment only, and not read back.
 */
function recomputableValues(
  forward: readonly Node[],
  segmentOf: readonly number[],
  kept: Set<number>,
  segments: number,
): Map<number, number> {
  const producedIn = new Map<number, number>();
  const readOutside = new Set<number>();
  forward.forEach((node, index) => {
    for (const input of node.inputs) {
      const segment = producedIn.get(input.id);
      if (segment !== undefined && segment !== segmentOf[index]) readOutside.add(input.id);
    }
    for (const output of node.outputs) producedIn.set(output.id, segmentOf[index]!);
  });
  const result = new Map<number, number>();
  for (const [id, segment] of producedIn) {
    if (segment < segments - 1 && !readOutside.has(id) && !kept.has(id)) result.set(id, segment);
  }
  return result;
}

/** Collects the forward nodes, in order, that recompute `needed` from kept values. */
function closureOf(
  needed: readonly Value[],
  recomputable: Map<number, number>,
  forward: readonly Node[],
): Node[] {
  const nodes = new Set<Node>();
  const stack = [...needed];
  while (stack.length > 0) {
    const producer = stack.pop()!.producer!;
    if (nodes.has(producer)) continue;
    nodes.add(producer);
    for (const input of producer.inputs) if (recomputable.has(input.id)) stack.push(input);
  }
  return forward.filter((node) => nodes.has(node));
}

/** Appends the recomputing copy of `node` and records its outputs' copies in `copies`. */
function copyNode(graph: Graph, node: Node, copies: Map<number, Value>): void {
  const inputs = node.inputs.map((input) => copies.get(input.id) ?? input);
  const scope = node.scope ? `${node.scope}.recompute` : 'recompute';
  let outputs: Value[];
  if (node.op === 'batchNorm') {
    const attrs = node.attrs as BatchNormAttrs;
    const parameters = attrs.affine ? inputs.slice(0, 3) : inputs.slice(0, 1);
    outputs = graph.addNode('batchNorm', parameters, { ...attrs, trackRunningStats: false }, scope);
  } else if (node.op === 'dropout') {
    const attrs = { ...(node.attrs as DropoutAttrs), stream: node.id };
    outputs = graph.addNode('dropoutGrad', inputs, attrs, scope);
  } else {
    outputs = graph.addNode(node.op, inputs, node.attrs as never, scope);
  }
  node.outputs.forEach((output, index) => copies.set(output.id, outputs[index]!));
}
