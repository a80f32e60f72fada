// The tensor-expression API: a thin fluent wrapper over Graph, for writing losses and custom
// training objectives. Every method appends IR nodes, so expressions get their gradient from
// autodiff like any network. Numbers broadcast as one-element constants.

import { UserError } from '../errors.js';
import { numElements, type Graph, type Shape, type Value } from '../graph/ir.js';
import type { OpAttrs, OpName } from '../graph/ops/index.js';

export type Operand = Tensor | number;

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly value: Value,
    /** Layer path given to the nodes this tensor's methods add. */
    readonly scope = 'loss',
  ) {}

  get shape(): Shape {
    return this.value.shape;
  }

  get rank(): number {
    return this.value.shape.length;
  }

  /** Wraps another value of the same graph. */
  wrap(value: Value): Tensor {
    return new Tensor(this.graph, value, this.scope);
  }

  /** Appends one node on this graph and wraps its first output. */
  op<K extends OpName>(op: K, inputs: readonly Value[], attrs: OpAttrs[K]): Tensor {
    return this.wrap(this.graph.addNode(op, inputs, attrs, this.scope)[0]!);
  }

  /** Adds a constant to this graph: a one-element tensor for a number. */
  constant(data: number | Float32Array, shape?: Shape): Tensor {
    const values = typeof data === 'number' ? Float32Array.of(data) : data;
    return this.wrap(this.graph.addConstant(values, shape ?? [values.length]));
  }

  private operand(other: Operand): Value {
    return typeof other === 'number' ? this.constant(other).value : other.value;
  }

  add(other: Operand): Tensor {
    return this.op('add', [this.value, this.operand(other)], {});
  }

  sub(other: Operand): Tensor {
    return this.op('sub', [this.value, this.operand(other)], {});
  }

  /** `this * other`; a number scales without a constant tensor. */
  mul(other: Operand): Tensor {
    if (typeof other === 'number') return this.op('scale', [this.value], { factor: other });
    return this.op('mul', [this.value, other.value], {});
  }

  div(other: Operand): Tensor {
    if (typeof other === 'number') return this.mul(1 / other);
    return this.op('div', [this.value, other.value], {});
  }

  /** `other - this`. */
  rsub(other: number): Tensor {
    return this.neg().add(other);
  }

  neg(): Tensor {
    return this.op('neg', [this.value], {});
  }

  exp(): Tensor {
    return this.op('exp', [this.value], {});
  }

  log(): Tensor {
    return this.op('log', [this.value], {});
  }

  sqrt(): Tensor {
    return this.op('sqrt', [this.value], {});
  }

  square(): Tensor {
    return this.mul(this);
  }

  relu(): Tensor {
    return this.op('relu', [this.value], {});
  }

  sigmoid(): Tensor {
    return this.op('sigmoid', [this.value], {});
  }

  /** log(1 + exp(x)), as PyTorch's softplus with beta 1 and threshold 20. */
  softplus(): Tensor {
    return this.op('softplus', [this.value], { beta: 1, threshold: 20 });
  }

  /** log(sigmoid(x)) = -softplus(-x), without the overflow of log(sigmoid(x)). */
  logSigmoid(): Tensor {
    return this.neg().softplus().neg();
  }

  /**
   * |x| as relu(x) + relu(-x): exact, and its gradient at 0 is 0, as PyTorch's sign(0) in
   * L1Loss (sqrt(x * x) would divide by zero there).
   */
  abs(): Tensor {
    return this.relu().add(this.neg().relu());
  }

  /** min(x, bound) = x - relu(x - bound). */
  minimum(bound: number): Tensor {
    return this.sub(this.sub(bound).relu());
  }

  /** max(x, bound) = bound + relu(x - bound). */
  maximum(bound: number): Tensor {
    return this.sub(bound).relu().add(bound);
  }

  /** x^exponent for x >= 0, as exp(exponent * log(x)); 0 maps to 0 for a positive exponent. */
  pow(exponent: number): Tensor {
    if (exponent === 1) return this;
    if (exponent === 2) return this.square();
    return this.log().mul(exponent).exp();
  }

  /** Maximum over `axes` (default: every axis); its gradient is not defined here. */
  max(axes?: readonly number[], keepDims = false): Tensor {
    return this.reduce('max', axes, keepDims);
  }

  softmax(axis = 1): Tensor {
    return this.op('softmax', [this.value], { axis: this.axis(axis) });
  }

  logSoftmax(axis = 1): Tensor {
    return this.op('logSoftmax', [this.value], { axis: this.axis(axis) });
  }

  /** Sum over `axes` (default: every axis). */
  sum(axes?: readonly number[], keepDims = false): Tensor {
    return this.reduce('sum', axes, keepDims);
  }

  /** Mean over `axes` (default: every axis). */
  mean(axes?: readonly number[], keepDims = false): Tensor {
    return this.reduce('mean', axes, keepDims);
  }

  reshape(shape: Shape): Tensor {
    if (numElements(shape) === numElements(this.shape)) {
      if (shape.every((size, axis) => size === this.shape[axis]) && shape.length === this.rank) {
        return this;
      }
    }
    return this.op('reshape', [this.value], { shape: [...shape] });
  }

  private axis(axis: number): number {
    const resolved = axis < 0 ? axis + this.rank : axis;
    if (resolved < 0 || resolved >= this.rank) {
      throw new UserError(`Axis ${axis} is out of range for a tensor of rank ${this.rank}.`);
    }
    return resolved;
  }

  private reduce(
    op: 'sum' | 'mean' | 'max',
    axes: readonly number[] | undefined,
    keepDims: boolean,
  ) {
    const all = this.shape.map((_, axis) => axis);
    const chosen = [...new Set((axes ?? all).map((axis) => this.axis(axis)))].sort((a, b) => a - b);
    if (chosen.length === 0) return this;
    if (chosen.length === this.rank && !keepDims) {
      // The element-wise kernels take no rank-0 tensors, so a full reduction gives shape [1].
      return this.op(op, [this.value], { axes: chosen, keepDims: true }).reshape([1]);
    }
    return this.op(op, [this.value], { axes: chosen, keepDims });
  }
}

/** Wraps `value` of `graph` for the fluent API. */
export function tensor(graph: Graph, value: Value, scope = 'loss'): Tensor {
  return new Tensor(graph, value, scope);
}
