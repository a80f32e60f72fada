// Reverse-mode differentiation as a graph transform: the backward pass is appended to a copy
// of the forward graph as ordinary IR nodes, so it is fused, planned and scheduled like the
// forward pass. Every forward op has a vector-Jacobian rule (autodiff-rules.ts) that emits IR.

import { ShapeError } from './errors.js';
import { formatShape, numElements, type Graph, type Node, type Shape, type Value } from './ir.js';
import { getVjp, type VjpContext } from './autodiff-registry.js';
import './autodiff-rules.js';

export interface BackwardResult {
  /** A copy of the forward graph with the backward nodes appended. */
  graph: Graph;
  /** Gradient of the loss for each trainable parameter, by state_dict name. */
  gradients: Map<string, Value>;
  /** Gradient of the loss for each input named in BackwardOptions.inputs, by input name. */
  inputGradients: Map<string, Value>;
  /** The loss value in the returned graph. */
  loss: Value;
}

export interface BackwardOptions {
  /** Whether the parameter with this state_dict name is trained; default: all are. */
  trainable?: (name: string) => boolean;
  /** Graph inputs whose gradient is wanted too (saliency maps), by input name. */
  inputs?: readonly string[];
}

/**
 * Collects the values whose gradient the loss needs: those computed from a trained
 * parameter or a requested input.
 */
function valuesNeedingGrad(
  graph: Graph,
  trainable: (name: string) => boolean,
  inputs: readonly string[],
): Set<number> {
  const needed = new Set(graph.params.filter((param) => trainable(param.name!)).map((p) => p.id));
  for (const name of inputs) {
    const input = graph.input(name);
    if (!input) {
      const names = graph.inputs.map((entry) => entry.name).join(', ');
      throw new ShapeError(`No graph input '${name}' to differentiate; the inputs are ${names}`);
    }
    needed.add(input.id);
  }
  for (const node of graph.nodes) {
    if (node.inputs.some((input) => needed.has(input.id))) {
      for (const output of node.outputs) needed.add(output.id);
    }
  }
  return needed;
}

/**
 * Appends the backward pass of `loss` (a value of `forward`, usually a scalar) to a copy of
 * `forward` and returns the gradient of every trainable parameter. The seed gradient is 1
 * for every element of the loss, as `loss.backward(torch.ones_like(loss))`.
 */
export function appendBackward(
  forward: Graph,
  loss: Value,
  options: BackwardOptions = {},
): BackwardResult {
  const graph = forward.clone();
  const lossValue = findValue(graph, loss.id);
  const needsGrad = valuesNeedingGrad(
    graph,
    options.trainable ?? (() => true),
    options.inputs ?? [],
  );
  const grads = new Map<number, Value>();
  const forwardNodes = [...graph.nodes];
  let currentScope = '';

  const context: VjpContext = {
    emit(op, inputs, attrs) {
      // A copy, so a rule that pads the list cannot change the node's outputs.
      return [...graph.addNode(op, inputs, attrs, currentScope)];
    },
    sumToShape(grad, shape) {
      return sumToShape(context, grad, shape);
    },
  };

  const seed = graph.addConstant(
    new Float32Array(numElements(lossValue.shape)).fill(1),
    lossValue.shape,
  );
  grads.set(lossValue.id, seed);

  for (let index = forwardNodes.length - 1; index >= 0; index--) {
    const node = forwardNodes[index]!;
    const outputGrads = node.outputs.map((output) => grads.get(output.id));
    if (outputGrads.every((grad) => grad === undefined)) continue;
    if (!node.inputs.some((input) => needsGrad.has(input.id))) continue;
    const rule = getVjp(node.op);
    if (!rule) {
      throw new ShapeError(
        `No gradient rule for op '${node.op}' (layer '${node.scope}'); this layer cannot be ` +
          'trained yet. Freeze the parameters before it or replace the layer.',
      );
    }
    currentScope = node.scope ? `${node.scope}.backward` : 'backward';
    const inputGrads = rule(context, node, outputGrads);
    node.inputs.forEach((input, slot) => {
      const grad = inputGrads[slot];
      if (grad === undefined || !needsGrad.has(input.id)) return;
      if (!sameShape(grad.shape, input.shape)) {
        throw new ShapeError(
          `Gradient rule of '${node.op}' (layer '${node.scope}') gave ${formatShape(grad.shape)} ` +
            `for input ${slot} of shape ${formatShape(input.shape)}`,
          { shapes: [grad.shape, input.shape] },
        );
      }
      const previous = grads.get(input.id);
      grads.set(input.id, previous ? context.emit('add', [previous, grad], {})[0]! : grad);
    });
  }

  const gradients = new Map<string, Value>();
  for (const param of graph.params) {
    const grad = grads.get(param.id);
    // A frozen parameter, or one the loss does not depend on, gets no gradient.
    if (grad) gradients.set(param.name!, grad);
  }
  const inputGradients = new Map<string, Value>();
  for (const name of options.inputs ?? []) {
    const grad = grads.get(graph.input(name)!.id);
    if (grad) inputGradients.set(name, grad);
  }
  pruneBackward(graph, forwardNodes.length, [...gradients.values(), ...inputGradients.values()]);
  return { graph, gradients, inputGradients, loss: lossValue };
}

/**
 * Removes the backward nodes that no parameter gradient depends on. Rules emit the gradient
 * of every input, and this drops the unused ones, such as the input gradient of the
 * first convolution.
 */
function pruneBackward(graph: Graph, forwardCount: number, roots: readonly Value[]): void {
  const needed = new Set(roots.map((value) => value.id));
  const kept = new Set<Node>();
  for (let index = graph.nodes.length - 1; index >= forwardCount; index--) {
    const node = graph.nodes[index]!;
    if (!node.outputs.some((output) => needed.has(output.id))) continue;
    kept.add(node);
    for (const input of node.inputs) needed.add(input.id);
  }
  const backward = graph.nodes.splice(forwardCount);
  graph.nodes.push(...backward.filter((node) => kept.has(node)));
}

function findValue(graph: Graph, id: number): Value {
  for (const node of graph.nodes) {
    for (const output of node.outputs) if (output.id === id) return output;
  }
  const state = [...graph.stateValues(), ...graph.inputs.map((input) => input.value)];
  const value = state.find((candidate) => candidate.id === id);
  if (!value) throw new ShapeError(`The loss value (id ${id}) is not part of this graph`);
  return value;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((size, axis) => size === b[axis]);
}

function sumToShape(context: VjpContext, grad: Value, shape: Shape): Value {
  if (sameShape(grad.shape, shape)) return grad;
  const rank = grad.shape.length;
  const offset = rank - shape.length;
  const axes: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const target = axis < offset ? 1 : shape[axis - offset]!;
    if (target === 1 && grad.shape[axis] !== 1) axes.push(axis);
  }
  const summed = axes.length > 0 ? context.emit('sum', [grad], { axes, keepDims: true })[0]! : grad;
  return sameShape(summed.shape, shape)
    ? summed
    : context.emit('reshape', [summed], { shape: [...shape] })[0]!;
}
