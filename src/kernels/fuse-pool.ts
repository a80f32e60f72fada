// Relu gradient folded into max pooling: in a training graph where max pooling reads a relu's
// output r, only a window's argmax receives gradient, and r at the argmax is the window's
// maximum. relu's gradient mask there is `maximum > 0`, so the forward pooling can decide it.
// The pooling kernel then writes the argmax 0xffffffff for a window whose maximum is not > 0
// (NaN included), the input gradient kernel of the pooling writes straight into the tensor of
// relu's gradient, and relu's gradient node runs no dispatch. This saves one pass that reads r
// and the pooled gradient and writes the gradient, each of r's size.
// It applies when:
//   - r is the output of a relu node, standalone or fused into a producer's epilogue;
//   - relu's gradient (unaryGrad, op relu) reads as its output gradient exactly the output of
//     the maxPoolGrad of that pooling, and nothing else reads or keeps that output;
//   - no other node reads r, so the argmax that the pooling saves serves only this gradient.

import type { GradOpAttrs } from '../graph/autodiff-ops.js';
import type { Graph, Node, Value } from '../graph/ir.js';
import type { FusedActivation } from './fuse.js';

export interface PoolReluFusions {
  /** relu's gradient mask that each max pooling writes into its argmax, by maxPool node id. */
  byPool: Map<number, FusedActivation>;
  /** Ids of the folded relu gradient nodes, whose dispatches disappear. */
  fused: Set<number>;
  /**
   * Pairs [maxPoolGrad output, relu gradient output]: the first is never materialized, and
   * the pooling's input gradient kernel writes the second's tensor.
   */
  aliases: [Value, Value][];
}

function readersOf(graph: Graph): Map<number, Node[]> {
  const readers = new Map<number, Node[]>();
  for (const node of graph.nodes) {
    for (const input of new Set(node.inputs)) {
      readers.set(input.id, [...(readers.get(input.id) ?? []), node]);
    }
  }
  return readers;
}

function isReluGradient(node: Node, reluOutput: Value): boolean {
  if (node.op !== 'unaryGrad') return false;
  const attrs = node.attrs as GradOpAttrs['unaryGrad'];
  return attrs.op === 'relu' && node.inputs[2] === reluOutput;
}

/** Returns [maxPoolGrad, relu gradient] when `pool`'s relu gradient can be folded into it. */
function foldable(
  pool: Node,
  readers: Map<number, Node[]>,
  readBack: Set<number>,
): [Node, Node] | undefined {
  const r = pool.inputs[0]!;
  if (r.producer?.op !== 'relu') return undefined;
  const others = (readers.get(r.id) ?? []).filter((reader) => reader !== pool);
  const poolGradient = others.find(
    (reader) =>
      reader.op === 'maxPoolGrad' &&
      reader.inputs[1] === r &&
      JSON.stringify(reader.attrs) === JSON.stringify(pool.attrs),
  );
  if (!poolGradient) return undefined;
  const dr = poolGradient.outputs[0]!;
  const drReaders = readers.get(dr.id) ?? [];
  if (readBack.has(dr.id) || drReaders.length !== 1) return undefined;
  const reluGradient = drReaders[0]!;
  if (!isReluGradient(reluGradient, r) || reluGradient.inputs[0] !== dr) return undefined;
  // r itself may be kept (read back): the pooling does not change it, only its argmax.
  const rest = others.filter((reader) => reader !== poolGradient && reader !== reluGradient);
  return rest.length === 0 ? [poolGradient, reluGradient] : undefined;
}

/**
 * Finds the max poolings of `graph` that fold the gradient of the relu before them. Values
 * in `keep` and the graph's outputs are read back, so a maxPoolGrad output among them stops
 * the folding.
 */
export function findPoolReluFusions(graph: Graph, keep: readonly Value[]): PoolReluFusions {
  const readers = readersOf(graph);
  const readBack = new Set(
    [...keep, ...graph.outputs.map((output) => output.value)].map((v) => v.id),
  );
  const fusions: PoolReluFusions = { byPool: new Map(), fused: new Set(), aliases: [] };
  for (const pool of graph.nodes) {
    if (pool.op !== 'maxPool') continue;
    const found = foldable(pool, readers, readBack);
    if (!found) continue;
    const [poolGradient, reluGradient] = found;
    fusions.byPool.set(pool.id, { activation: 'relu', node: reluGradient });
    fusions.fused.add(reluGradient.id);
    fusions.aliases.push([poolGradient.outputs[0]!, reluGradient.outputs[0]!]);
  }
  return fusions;
}
