// The static graph IR. Every tensor (Value) has a shape and dtype known when the graph is built.
// Nodes are in topological order, because a node's inputs must exist before addNode is called.
// Public shapes follow PyTorch: [N, C, D, H, W] for 3D images, fewer spatial axes for 2D and 1D.

import { ShapeError } from './errors.js';
import type { InitSpec } from './init-spec.js';
import { OPS, type OpAttrs, type OpName } from './ops/index.js';

export type DType = 'f32' | 'i32' | 'u32';
export type Shape = readonly number[];
export type ValueKind = 'input' | 'param' | 'buffer' | 'activation' | 'constant';

export interface Value {
  readonly id: number;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly kind: ValueKind;
  /** The node that computes this value; only activations have one. */
  readonly producer?: Node;
  /** Input or output name for inputs, PyTorch `state_dict` name for params and buffers. */
  readonly name?: string;
  /** Initialisation spec of a param or buffer (drawn by init.ts). */
  readonly init?: InitSpec;
  /** Element values of a constant, row-major. */
  readonly data?: Float32Array;
}

export interface Node<K extends OpName = OpName> {
  readonly id: number;
  readonly op: K;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: OpAttrs[K];
  /** Path of the layer that created the node, as in a PyTorch module tree: `layer1.0.conv1`. */
  readonly scope: string;
}

export interface NamedValue {
  readonly name: string;
  readonly value: Value;
}

/** Number of elements of a shape; a scalar (rank 0) has one. */
export function numElements(shape: Shape): number {
  let count = 1;
  for (const size of shape) count *= size;
  return count;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

function checkShape(shape: Shape, what: string): void {
  for (const size of shape) {
    if (!Number.isInteger(size) || size < 1) {
      throw new ShapeError(`${what} has shape ${formatShape(shape)}; sizes must be integers >= 1`, {
        shapes: [shape],
      });
    }
  }
}

/**
 * A static computation graph: named inputs and outputs, params (trainable), buffers (state such
 * as batch-norm running statistics), constants and nodes in topological order.
 */
export class Graph {
  readonly inputs: NamedValue[] = [];
  readonly outputs: NamedValue[] = [];
  readonly params: Value[] = [];
  readonly buffers: Value[] = [];
  readonly constants: Value[] = [];
  readonly nodes: Node[] = [];
  private nextValueId = 0;
  /** Node ids stay unique when nodes are removed (the engine prunes unused backward nodes). */
  private nextNodeId = 0;
  private readonly stateNames = new Set<string>();
  /** Every value created by this graph, so values of another graph (or its copy) are caught. */
  private readonly members = new Set<Value>();

  addInput(name: string, shape: Shape, dtype: DType = 'f32'): Value {
    if (this.inputs.some((input) => input.name === name)) {
      throw new ShapeError(`Graph input '${name}' already exists; give each input its own name`);
    }
    checkShape(shape, `Input '${name}'`);
    const value = this.newValue({ shape: [...shape], dtype, kind: 'input', name });
    this.inputs.push({ name, value });
    return value;
  }

  /** Adds a trainable tensor; `name` is its PyTorch `state_dict` name. */
  addParam(name: string, shape: Shape, init: InitSpec): Value {
    return this.addState('param', name, shape, 'f32', init, this.params);
  }

  /** Adds a non-trainable state tensor (running statistics, counters). */
  addBuffer(name: string, shape: Shape, init: InitSpec, dtype: DType = 'f32'): Value {
    return this.addState('buffer', name, shape, dtype, init, this.buffers);
  }

  addConstant(data: Float32Array, shape: Shape): Value {
    if (data.length !== numElements(shape)) {
      throw new ShapeError(
        `Constant has ${data.length} values but shape ${formatShape(shape)} needs ` +
          `${numElements(shape)}`,
        { shapes: [shape] },
      );
    }
    const value = this.newValue({ shape: [...shape], dtype: 'f32', kind: 'constant', data });
    this.constants.push(value);
    return value;
  }

  /**
   * Appends a node after running the op's shape inference, and returns its output values.
   * Throws ShapeError (carrying the input shapes, op and scope) when the inputs do not fit.
   */
  addNode<K extends OpName>(
    op: K,
    inputs: readonly Value[],
    attrs: OpAttrs[K],
    scope = '',
  ): Value[] {
    const def = OPS[op];
    if (def === undefined) throw new ShapeError(`Unknown op '${op}'`, { op, scope });
    this.checkMembers(inputs, `op ${op} in layer '${scope}'`);
    const inputShapes = inputs.map((input) => input.shape);
    let outputShapes: Shape[];
    try {
      outputShapes = def.inferShape(inputShapes, attrs);
    } catch (error) {
      if (error instanceof ShapeError) throw error.withContext(op, scope, inputShapes);
      throw error;
    }
    const dtypes = def.inferDType?.(
      inputs.map((input) => input.dtype),
      attrs,
    );
    const node = { id: this.nextNodeId++, op, inputs: [...inputs], outputs: [], attrs, scope };
    const outputs = outputShapes.map((shape, index) =>
      this.newValue({
        shape,
        dtype: dtypes?.[index] ?? inputs[0]?.dtype ?? 'f32',
        kind: 'activation',
        producer: node,
      }),
    );
    (node as { outputs: Value[] }).outputs = outputs;
    this.nodes.push(node as Node);
    return outputs;
  }

  setOutput(name: string, value: Value): void {
    this.checkMembers([value], `output '${name}'`);
    const existing = this.outputs.findIndex((output) => output.name === name);
    if (existing >= 0) this.outputs[existing] = { name, value };
    else this.outputs.push({ name, value });
  }

  input(name: string): Value | undefined {
    return this.inputs.find((input) => input.name === name)?.value;
  }

  output(name: string): Value | undefined {
    return this.outputs.find((output) => output.name === name)?.value;
  }

  /**
   * Returns params then buffers, each in creation order. A PyTorch `state_dict` interleaves them
   * per module, so compare by name, not by position.
   */
  stateValues(): Value[] {
    return [...this.params, ...this.buffers];
  }

  /**
   * Returns a deep copy with the same ids, so nodes appended to the copy (a backward pass,
   * a loss) leave this graph unchanged.
   */
  clone(): Graph {
    const copy = new Graph();
    const map = new Map<Value, Value>();
    const copyValue = (value: Value, producer?: Node): Value => {
      const result = { ...value, shape: [...value.shape], producer };
      map.set(value, result);
      return result;
    };
    const lookup = (value: Value): Value => map.get(value) ?? copyValue(value);
    for (const { name, value } of this.inputs) copy.inputs.push({ name, value: lookup(value) });
    for (const value of this.params) copy.params.push(lookup(value));
    for (const value of this.buffers) copy.buffers.push(lookup(value));
    for (const value of this.constants) copy.constants.push(lookup(value));
    for (const node of this.nodes) {
      const result = { ...node, inputs: node.inputs.map(lookup), outputs: [] as Value[] };
      result.outputs = node.outputs.map((output) => copyValue(output, result as Node));
      copy.nodes.push(result as Node);
    }
    for (const { name, value } of this.outputs) copy.outputs.push({ name, value: lookup(value) });
    copy.nextValueId = this.nextValueId;
    copy.nextNodeId = this.nextNodeId;
    for (const value of map.values()) copy.members.add(value);
    for (const name of this.stateNames) copy.stateNames.add(name);
    return copy;
  }

  private addState(
    kind: 'param' | 'buffer',
    name: string,
    shape: Shape,
    dtype: DType,
    init: InitSpec,
    list: Value[],
  ): Value {
    if (this.stateNames.has(name)) {
      throw new ShapeError(
        `State name '${name}' is already used; give the layer a unique name or scope`,
      );
    }
    checkShape(shape, `${kind === 'param' ? 'Parameter' : 'Buffer'} '${name}'`);
    this.stateNames.add(name);
    const value = this.newValue({ shape: [...shape], dtype, kind, name, init });
    list.push(value);
    return value;
  }

  private newValue(fields: Omit<Value, 'id'>): Value {
    const value = { id: this.nextValueId++, ...fields };
    this.members.add(value);
    return value;
  }

  private checkMembers(values: readonly Value[], user: string): void {
    for (const value of values) {
      if (!this.members.has(value)) {
        throw new Error(
          `${user} uses value ${value.id} (${value.kind}) of another graph; after clone(), ` +
            'take values from the copy (graph.nodes, graph.params, graph.input())',
        );
      }
    }
  }
}
