// The graph builder used by layers, the `.net` elaborator and the TypeScript networks. It keeps
// the current module path (scope), from which params get their PyTorch `state_dict` names and
// nodes their layer path.

import { Graph, type DType, type Shape, type Value } from './ir.js';
import type { InitSpec } from './init-spec.js';
import type { OpAttrs, OpName } from './ops/index.js';

export class GraphBuilder {
  readonly graph: Graph;
  private readonly path: string[] = [];

  constructor(graph: Graph = new Graph()) {
    this.graph = graph;
  }

  /** Current module path, for example `convolutions.layer0`; empty at the top level. */
  get currentScope(): string {
    return this.path.join('.');
  }

  /** Runs `body` inside the child module `name`; an empty name adds no level. */
  scope<T>(name: string, body: () => T): T {
    if (name === '') return body();
    this.path.push(name);
    try {
      return body();
    } finally {
      this.path.pop();
    }
  }

  /** Full `state_dict` name of `name` in the current scope; '' names the scope itself. */
  qualify(name: string): string {
    return [...this.path, name].filter((part) => part !== '').join('.');
  }

  input(name: string, shape: Shape, dtype: DType = 'f32'): Value {
    return this.graph.addInput(name, shape, dtype);
  }

  output(name: string, value: Value): void {
    this.graph.setOutput(name, value);
  }

  /** Adds a trainable param named `name` within the current scope. */
  param(name: string, shape: Shape, init: InitSpec): Value {
    return this.graph.addParam(this.qualify(name), shape, init);
  }

  /** Adds a buffer (non-trainable state) named `name` within the current scope. */
  buffer(name: string, shape: Shape, init: InitSpec, dtype: DType = 'f32'): Value {
    return this.graph.addBuffer(this.qualify(name), shape, init, dtype);
  }

  /** Adds a node with the current scope and returns its first output. */
  op<K extends OpName>(op: K, inputs: readonly Value[], attrs: OpAttrs[K]): Value {
    return this.graph.addNode(op, inputs, attrs, this.currentScope)[0];
  }

  /** Adds a node with the current scope and returns all its outputs. */
  opOutputs<K extends OpName>(op: K, inputs: readonly Value[], attrs: OpAttrs[K]): Value[] {
    return this.graph.addNode(op, inputs, attrs, this.currentScope);
  }
}
