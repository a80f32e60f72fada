// A canonical JSON form of a graph, independent of creation order of params and of value ids,
// so that two graphs built by different front ends (a `.net` file, a TypeScript class) can be
// compared structurally.

import type { Graph, Value } from './ir.js';

export interface CanonicalGraph {
  inputs: { name: string; shape: number[]; dtype: string }[];
  state: { name: string; kind: string; shape: number[]; dtype: string; init: unknown }[];
  nodes: { op: string; scope: string; inputs: string[]; attrs: unknown; outputs: number[][] }[];
  outputs: { name: string; value: string }[];
}

/** Orders strings by UTF-16 code units, independent of locale. */
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Recursively sorts object keys so JSON.stringify gives one string per structure. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value instanceof Float32Array) return Array.from(value);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => compareText(a, b));
    return Object.fromEntries(entries.map(([key, item]) => [key, sortKeys(item)]));
  }
  return value;
}

/**
 * Converts a graph to its canonical form: values are referred to by name (inputs, params,
 * buffers), by position (constants) or by producing node and output index (activations).
 */
export function canonicalGraph(graph: Graph): CanonicalGraph {
  const references = new Map<Value, string>();
  for (const { name, value } of graph.inputs) references.set(value, `input:${name}`);
  for (const value of graph.stateValues()) references.set(value, `${value.kind}:${value.name}`);
  graph.constants.forEach((value, index) => references.set(value, `constant:${index}`));
  graph.nodes.forEach((node, index) => {
    node.outputs.forEach((output, port) => references.set(output, `node:${index}:${port}`));
  });
  const reference = (value: Value) => references.get(value) ?? `unknown:${value.id}`;
  const state = graph
    .stateValues()
    .map((value) => ({
      name: value.name ?? '',
      kind: value.kind,
      shape: [...value.shape],
      dtype: value.dtype,
      init: sortKeys(value.init),
    }))
    .sort((a, b) => compareText(a.name, b.name));
  return {
    inputs: graph.inputs.map(({ name, value }) => ({
      name,
      shape: [...value.shape],
      dtype: value.dtype,
    })),
    state,
    nodes: graph.nodes.map((node) => ({
      op: node.op,
      scope: node.scope,
      inputs: node.inputs.map(reference),
      attrs: sortKeys(node.attrs),
      outputs: node.outputs.map((output) => [...output.shape]),
    })),
    outputs: graph.outputs.map(({ name, value }) => ({ name, value: reference(value) })),
  };
}

/** Serialises the canonical form; equal strings mean structurally equal graphs. */
export function canonicalJSON(graph: Graph): string {
  return JSON.stringify(canonicalGraph(graph));
}

export function graphsEqual(a: Graph, b: Graph): boolean {
  return canonicalJSON(a) === canonicalJSON(b);
}
