// Lowers a whole graph: every node through its registered lowering, then the extra
// dispatches a caller appends (optimizer updates), with operands resolved to tensors. Views
// (reshape) share their base's tensor; operands with the same key share one tensor.

import { UserError } from '../errors.js';
import { numElements, type Graph, type Node, type Value } from '../graph/ir.js';
import { findEpilogueFusions, lowerFoldedEpilogue, type EpilogueFusions } from './fuse.js';
import { findPoolReluFusions, type PoolReluFusions } from './fuse-pool.js';
import { getLowering, type LowerContext, type LoweredDispatch, type Operand } from './lower.js';

/** A tensor of the compiled program: an IR value (after aliasing) or an internal tensor. */
export interface Tensor {
  id: number;
  elements: number;
  /** Kept for the whole program: never shares a buffer. */
  persistent: boolean;
  label: string;
  /** Uploaded at compile time. */
  data?: Float32Array | Int32Array | Uint32Array;
  /** Filled with this value at compile time. */
  fill?: number;
}

export interface LoweredGraph {
  graph: Graph;
  /**
   * Dispatches with one tensor id per binding (-1 for bindings the kernel does not read), and
   * the phase each belongs to: 0 for the graph and `extra`, k for the k-th later phase.
   */
  dispatches: { dispatch: LoweredDispatch; tensors: number[]; phase: number }[];
  tensors: Map<number, Tensor>;
  /** Uniform buffers by tensor id. */
  uniforms: Map<number, { key: string; bytes: number }>;
  /** Tensor id of each state operand (optimizer moments, accumulators), by key. */
  states: Map<string, number>;
  /** Tensor id of each IR value id. */
  ofValue: Map<number, number>;
}

/** Appends dispatches after the graph's; it gets the same context as lowerings. */
export type ExtraLowering = (context: LowerContext) => LoweredDispatch[];

type BaseContext = Pick<LowerContext, 'limits' | 'training'>;

export interface LowerGraphOptions {
  /**
   * Apply element-wise chains (eval-mode batch norm, residual addition, activation) in the
   * producing kernel's epilogue, and fold relu's gradient into the max pooling after it
   * (default true). See fuse.ts and fuse-pool.ts.
   */
  fuse?: boolean;
  /**
   * Dispatches of later phases, each run as a program of its own on the same buffers (an
   * optimizer update every k accumulation steps). Tensors they share with the graph must be
   * persistent: parameters, state, inputs, kept values.
   */
  phases?: ExtraLowering[];
}

function lowerNode(node: Node, context: LowerContext): LoweredDispatch[] {
  const lowering = getLowering(node.op);
  if (!lowering) {
    throw new UserError(
      `Op '${node.op}' (layer '${node.scope}') has no GPU kernel yet, so this network ` +
        'cannot run on WebGPU.',
    );
  }
  return lowering(node, context);
}

export function lowerGraph(
  graph: Graph,
  base: BaseContext,
  keep: readonly Value[],
  extra?: ExtraLowering,
  options: LowerGraphOptions = {},
): LoweredGraph {
  const fusion: EpilogueFusions =
    options.fuse === false
      ? { byProducer: new Map(), fused: new Set() }
      : findEpilogueFusions(graph, keep, base.training);
  const pools: PoolReluFusions =
    options.fuse === false
      ? { byPool: new Map(), fused: new Set(), aliases: [] }
      : findPoolReluFusions(graph, keep);
  // Outputs inside fused chains: the producer's kernel writes only the chain's last output.
  const removed = new Set<number>();
  // A fused producer is lowered where its chain ends, because a residual may be computed
  // after the producer (a ResNet shortcut) and all of the producer's inputs exist by then.
  const producerOfLast = new Map<number, Node>();
  for (const node of graph.nodes) {
    const chain = fusion.byProducer.get(node.id);
    if (!chain) continue;
    removed.add(node.outputs[0]!.id);
    for (const fused of chain.nodes.slice(0, -1)) removed.add(fused.outputs[0]!.id);
    producerOfLast.set(chain.node.id, node);
  }
  const tensors = new Map<number, Tensor>();
  const uniforms = new Map<number, { key: string; bytes: number }>();
  const aliases = new Map<number, Value>();
  const internal = new Map<string, number>();
  const states = new Map<string, number>();
  const minimum = new Map<number, number>();
  let nextInternal = -2;

  // A max pooling that folds relu's gradient writes its input gradient into relu's gradient
  // tensor.
  for (const [poolGradient, reluGradient] of pools.aliases) {
    removed.add(poolGradient.id);
    aliases.set(poolGradient.id, reluGradient);
  }

  const root = (v: Value): Value => {
    let current = v;
    while (aliases.has(current.id)) current = aliases.get(current.id)!;
    return current;
  };
  const persistentIds = new Set<number>([
    ...graph.inputs.map((input) => input.value.id),
    ...graph.stateValues().map((state) => state.id),
    ...graph.constants.map((constant) => constant.id),
  ]);
  let scratchCount = 0;
  const context: LowerContext = {
    ...base,
    scratch: (elements) => ({ kind: 'internal', key: `scratch:${scratchCount++}`, elements }),
    saved: (key, elements) => ({ kind: 'internal', key, elements }),
    constant: (key, data) => ({ kind: 'constant', key, data }),
    alias: (view, target) => void aliases.set(view.id, target),
    reserve: (v, elements) => void minimum.set(v.id, Math.max(minimum.get(v.id) ?? 0, elements)),
    fusedActivation: (node) => fusion.byProducer.get(node.id) ?? pools.byPool.get(node.id),
    materialized: (v) => !removed.has(v.id),
  };

  const tensorOfValue = (v: Value): number => {
    const target = root(v);
    if (!tensors.has(target.id)) {
      tensors.set(target.id, {
        id: target.id,
        elements: numElements(target.shape),
        persistent: persistentIds.has(target.id),
        label: target.name ?? `${target.producer?.op ?? target.kind}#${target.id}`,
        data: target.data,
      });
    }
    return target.id;
  };
  const tensorOfKey = (key: string, make: (id: number) => void): number => {
    let id = internal.get(key);
    if (id === undefined) {
      id = nextInternal--;
      internal.set(key, id);
      make(id);
    }
    return id;
  };
  const tensorOfOperand = (operand: Operand): number => {
    switch (operand.kind) {
      case 'value':
        return tensorOfValue(operand.value);
      case 'unused':
        return -1;
      case 'internal':
        return tensorOfKey(`internal:${operand.key}`, (id) =>
          tensors.set(id, {
            id,
            elements: operand.elements,
            persistent: false,
            label: operand.key,
          }),
        );
      case 'constant':
        return tensorOfKey(`constant:${operand.key}`, (id) =>
          tensors.set(id, {
            id,
            elements: operand.data.length,
            persistent: true,
            label: operand.key,
            data: operand.data,
          }),
        );
      case 'state':
        return tensorOfKey(`state:${operand.key}`, (id) => {
          states.set(operand.key, id);
          tensors.set(id, {
            id,
            elements: operand.elements,
            persistent: true,
            label: operand.key,
            fill: operand.fill,
          });
        });
      case 'uniform':
        return tensorOfKey(`uniform:${operand.key}`, (id) =>
          uniforms.set(id, { key: operand.key, bytes: operand.bytes }),
        );
    }
  };

  const dispatches: LoweredGraph['dispatches'] = [];
  const add = (list: LoweredDispatch[], phase = 0) => {
    for (const dispatch of list) {
      dispatches.push({ dispatch, tensors: dispatch.operands.map(tensorOfOperand), phase });
    }
  };
  for (const node of graph.nodes) {
    if (fusion.byProducer.has(node.id)) continue;
    const producer = producerOfLast.get(node.id);
    if (producer) {
      add(lowerFoldedEpilogue(fusion.byProducer.get(producer.id)!, context));
      add(lowerNode(producer, context));
    } else if (!fusion.fused.has(node.id) && !pools.fused.has(node.id)) {
      add(lowerNode(node, context));
    }
  }
  if (extra) add(extra(context));
  (options.phases ?? []).forEach((phase, index) => add(phase(context), index + 1));

  const ofValue = new Map<number, number>();
  for (const v of [...graph.inputs.map((input) => input.value), ...graph.stateValues(), ...keep]) {
    const id = tensorOfValue(v);
    tensors.get(id)!.persistent = true;
    ofValue.set(v.id, id);
  }
  for (const node of graph.nodes) {
    for (const output of node.outputs) {
      if (!removed.has(output.id)) ofValue.set(output.id, tensorOfValue(output));
    }
  }
  for (const [valueId, elements] of minimum) {
    const tensor = tensors.get(ofValue.get(valueId)!)!;
    tensor.elements = Math.max(tensor.elements, elements);
  }
  return { graph, dispatches, tensors, uniforms, states, ofValue };
}
