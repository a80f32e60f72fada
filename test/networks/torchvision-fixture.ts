// Reads test/fixtures/torchvision-params.json (written by scripts/fixtures/torchvision_params.py)
// and digests a graph's parameters the same way, so networks can be compared with PyTorch.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { Graph, Value } from '../../src/graph/ir.js';
import { nodeFlops } from '../../src/graph/summary.js';

export interface TensorListDigest {
  tensors: number;
  sha256: string;
  first: string[];
  last: string[];
}

export interface NetworkDigest {
  inShape: number[];
  numOutputs: number | null;
  parameterCount: number;
  parameters: TensorListDigest;
  stateDict: TensorListDigest;
  /** Parameter count under each top-level module. */
  groups: Record<string, number>;
  /**
   * Forward FLOPs for one sample of convolutions, linear layers and attention products (literature
   * variants only).
   */
  productFlops?: number;
}

/** A small network's eval-mode output in PyTorch, with the state from a formula. */
export interface ForwardCase {
  /** The network's JSON config, with its name. */
  config: Record<string, unknown>;
  /** Input shape with the batch axis; the input is sin(0.1 i) at flat index i. */
  inShape: number[];
  outShape: number[];
  output: number[];
}

export interface TorchvisionFixture {
  variants: Record<string, { '2d': NetworkDigest; '3d': NetworkDigest }>;
  clinicadl: Record<string, { '2d': NetworkDigest; '3d': NetworkDigest }>;
  forward: Record<string, ForwardCase>;
}

export function loadTorchvisionFixture(): TorchvisionFixture {
  const url = new URL('../fixtures/torchvision-params.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as TorchvisionFixture;
}

/**
 * Sorts state values into PyTorch's state_dict order. That is the creation order, params and
 * buffers mixed, except that torchvision registers ViT's class_token first although the network
 * creates it after the patch projection conv_proj.
 */
export function stateDictOrder(values: readonly Value[]): Value[] {
  const rank = (value: Value) => (value.name === 'class_token' ? -1 : value.id);
  return [...values].sort((a, b) => rank(a) - rank(b));
}

/** Lines `name:d0,d1,...` in PyTorch state_dict order. */
export function stateDictLines(graph: Graph, withBuffers: boolean): string[] {
  const values: Value[] = withBuffers ? graph.stateValues() : [...graph.params];
  return stateDictOrder(values).map((value) => `${value.name ?? '?'}:${value.shape.join(',')}`);
}

export function digestLines(lines: readonly string[]): TensorListDigest {
  return {
    tensors: lines.length,
    sha256: createHash('sha256').update(lines.join('\n')).digest('hex'),
    first: lines.slice(0, 3),
    last: lines.slice(-3),
  };
}

/** Forward FLOPs per sample of the conv, linear and matmul nodes, as the fixture's productFlops. */
export function productFlops(graph: Graph): number {
  const products = graph.nodes.filter((node) => ['conv', 'linear', 'matmul'].includes(node.op));
  const total = products.reduce((sum, node) => sum + nodeFlops(node), 0);
  return total / graph.inputs[0].value.shape[0];
}

/** Parameter count under each top-level module, as the fixture's "groups". */
export function parameterGroups(graph: Graph): Record<string, number> {
  const groups: Record<string, number> = {};
  for (const param of graph.params) {
    const top = (param.name ?? '').split('.')[0];
    groups[top] = (groups[top] ?? 0) + param.shape.reduce((a, b) => a * b, 1);
  }
  return groups;
}
