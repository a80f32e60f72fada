// Per-layer summary of a graph (used by `inspect`): layer path, ops, output shape, parameter
// count and forward FLOPs, with totals per sample.

import { numElements, type Graph, type Node, type Shape, type Value } from './ir.js';
import { OPS } from './ops/index.js';

export interface SummaryRow {
  /** Layer path (node scope); '' for nodes added at the top level. */
  scope: string;
  /** Ops of the row's nodes, in order, without repeats. */
  ops: string[];
  /** Shape of the row's last output. */
  outputShape: Shape;
  /** Elements of the trainable params first used in this row. */
  params: number;
  /** Forward FLOPs of the row for the whole batch. */
  flops: number;
}

export interface GraphSummary {
  rows: SummaryRow[];
  /** Elements of all trainable params (buffers excluded, as PyTorch's parameter count). */
  totalParams: number;
  /** Elements of all buffers (running statistics, counters). */
  totalBuffers: number;
  /** Forward FLOPs for one sample: the batch total divided by the batch size. */
  flopsPerSample: number;
  batchSize: number;
}

export function nodeFlops(node: Node): number {
  const def = OPS[node.op];
  const inputs = node.inputs.map((input) => input.shape);
  const outputs = node.outputs.map((output) => output.shape);
  return def.flops(inputs, outputs, node.attrs as never);
}

/**
 * Summarises a graph. Consecutive nodes with the same scope form one row unless `perNode` is
 * set. The batch size is axis 0 of the first input (1 for a graph without inputs).
 */
export function summarise(graph: Graph, options: { perNode?: boolean } = {}): GraphSummary {
  const rows: SummaryRow[] = [];
  const counted = new Set<Value>();
  let totalFlops = 0;
  for (const node of graph.nodes) {
    let params = 0;
    for (const input of node.inputs) {
      if (input.kind === 'param' && !counted.has(input)) {
        counted.add(input);
        params += numElements(input.shape);
      }
    }
    const flops = nodeFlops(node);
    totalFlops += flops;
    const last = rows[rows.length - 1];
    if (!options.perNode && last !== undefined && last.scope === node.scope) {
      if (!last.ops.includes(node.op)) last.ops.push(node.op);
      last.outputShape = node.outputs[0].shape;
      last.params += params;
      last.flops += flops;
    } else {
      rows.push({
        scope: node.scope,
        ops: [node.op],
        outputShape: node.outputs[0].shape,
        params,
        flops,
      });
    }
  }
  const batchSize = graph.inputs[0]?.value.shape[0] ?? 1;
  const sum = (values: Value[]) => values.reduce((total, v) => total + numElements(v.shape), 0);
  return {
    rows,
    totalParams: sum(graph.params),
    totalBuffers: sum(graph.buffers),
    flopsPerSample: totalFlops / batchSize,
    batchSize,
  };
}
