// The compiler from graph IR to a GPU program: lower every node to kernel dispatches, plan
// buffers by liveness, allocate them once, create all pipelines in parallel, and record the
// dispatches into a Program that each run encodes into one command buffer.

import { UserError } from '../errors.js';
import { initialise } from '../graph/init.js';
import { numElements, type Graph, type Value } from '../graph/ir.js';
import { planMemory, type PlannedTensor } from '../graph/plan-memory.js';
import type { Gpu } from '../runtime/gpu.js';
import { Program, type Dispatch } from '../runtime/program.js';
import './lower-dense.js';
import './lower-elementwise.js';
import './lower-pool.js';
import { getLowering, type LowerContext, type LoweredDispatch, type Operand } from './lower.js';

export interface CompileOptions {
  /** Names the program in errors and profiles. */
  name?: string;
  /** Values read back after a run; they keep buffers of their own. Default: graph outputs. */
  keep?: readonly Value[];
  /** Seed of the parameter initialisation. Default 0. */
  seed?: number;
}

/** A tensor of the compiled program: an IR value (after aliasing) or an internal tensor. */
interface Tensor {
  id: number;
  elements: number;
  persistent: boolean;
  label: string;
  data?: Float32Array | Int32Array | Uint32Array;
}

/** The lowered graph: dispatches whose operands are tensor ids (-1 for unused bindings). */
interface Lowered {
  dispatches: { dispatch: LoweredDispatch; tensors: number[] }[];
  tensors: Map<number, Tensor>;
  /** Tensor id of each IR value id. */
  ofValue: Map<number, number>;
}

function lowerGraph(
  graph: Graph,
  context: Omit<LowerContext, 'scratch' | 'saved' | 'constant' | 'alias' | 'reserve'>,
  keep: readonly Value[],
): Lowered {
  const tensors = new Map<number, Tensor>();
  const ofValue = new Map<number, number>();
  const aliases = new Map<number, Value>();
  const internal = new Map<string, number>();
  const minimum = new Map<number, number>();
  let nextInternal = -2;

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
  let nodeIndex = 0;
  const full: LowerContext = {
    ...context,
    scratch: (elements) => ({
      kind: 'internal',
      key: `scratch:${nodeIndex}:${nextInternal--}`,
      elements,
    }),
    saved: (key, elements) => ({ kind: 'internal', key, elements }),
    constant: (key, data) => ({ kind: 'constant', key, data }),
    alias: (view, base) => void aliases.set(view.id, base),
    reserve: (v, elements) => void minimum.set(v.id, Math.max(minimum.get(v.id) ?? 0, elements)),
  };

  const tensorOfValue = (v: Value): number => {
    const base = root(v);
    if (!tensors.has(base.id)) {
      tensors.set(base.id, {
        id: base.id,
        elements: numElements(base.shape),
        persistent: persistentIds.has(base.id),
        label: base.name ?? `${base.producer?.op ?? base.kind}#${base.id}`,
        data: base.data,
      });
    }
    return base.id;
  };
  const tensorOfOperand = (operand: Operand): number => {
    switch (operand.kind) {
      case 'value':
        return tensorOfValue(operand.value);
      case 'unused':
        return -1;
      case 'internal':
      case 'constant': {
        const key = `${operand.kind}:${operand.key}`;
        let id = internal.get(key);
        if (id === undefined) {
          id = nextInternal--;
          internal.set(key, id);
          const elements = operand.kind === 'internal' ? operand.elements : operand.data.length;
          const data = operand.kind === 'constant' ? operand.data : undefined;
          tensors.set(id, {
            id,
            elements,
            persistent: data !== undefined,
            label: operand.key,
            data,
          });
        }
        return id;
      }
    }
  };

  const dispatches: Lowered['dispatches'] = [];
  for (const node of graph.nodes) {
    const lowering = getLowering(node.op);
    if (!lowering) {
      throw new UserError(
        `Op '${node.op}' (layer '${node.scope}') has no GPU kernel yet, so this network ` +
          'cannot run on WebGPU.',
      );
    }
    for (const dispatch of lowering(node, full)) {
      dispatches.push({ dispatch, tensors: dispatch.operands.map(tensorOfOperand) });
    }
    nodeIndex += 1;
  }
  for (const v of [...graph.inputs.map((input) => input.value), ...graph.stateValues(), ...keep]) {
    const id = tensorOfValue(v);
    tensors.get(id)!.persistent = true;
    ofValue.set(v.id, id);
  }
  for (const node of graph.nodes)
    for (const output of node.outputs) ofValue.set(output.id, tensorOfValue(output));
  for (const [valueId, elements] of minimum) {
    const tensor = tensors.get(ofValue.get(valueId)!)!;
    tensor.elements = Math.max(tensor.elements, elements);
  }
  return { dispatches, tensors, ofValue };
}

/** A graph compiled for one device: its buffers, its Program, and typed access by value. */
export class CompiledGraph {
  constructor(
    private readonly gpu: Gpu,
    readonly graph: Graph,
    readonly program: Program,
    private readonly bufferOfValue: Map<number, { buffer: GPUBuffer; bytes: number }>,
    /** Device memory of all the program's tensors, in bytes. */
    readonly memoryBytes: number,
  ) {}

  buffer(v: Value): GPUBuffer {
    const entry = this.bufferOfValue.get(v.id);
    if (!entry)
      throw new UserError(`Value #${v.id} (${v.name ?? v.kind}) has no buffer in this program.`);
    return entry.buffer;
  }

  /** Writes the input called `name`. */
  write(name: string, data: Float32Array | Int32Array | Uint32Array): void {
    const input = this.graph.input(name);
    if (!input) {
      const names = this.graph.inputs.map((entry) => entry.name).join(', ');
      throw new UserError(`The program has no input '${name}'; its inputs are ${names}.`);
    }
    if (data.length !== numElements(input.shape)) {
      throw new UserError(
        `Input '${name}' needs ${numElements(input.shape)} values (shape [${input.shape.join(', ')}]), got ${data.length}.`,
      );
    }
    this.gpu.write(this.buffer(input), data);
  }

  /** Writes a parameter or buffer by state_dict name. */
  writeState(name: string, data: Float32Array): void {
    const state = this.graph.stateValues().find((candidate) => candidate.name === name);
    if (!state) throw new UserError(`The program has no parameter or buffer '${name}'.`);
    this.gpu.write(this.buffer(state), data);
  }

  async read(v: Value): Promise<Float32Array> {
    return this.gpu.readF32(this.buffer(v), numElements(v.shape));
  }

  /** Encodes and submits one run; returns without waiting for the GPU. */
  run(): void {
    this.program.submit();
  }
}

/**
 * Compiles `graph` for `gpu`. Parameters and buffers get PyTorch's default initialisation
 * from `seed`; constants are uploaded. Inputs must be written before each run.
 */
export async function compileGraph(
  gpu: Gpu,
  graph: Graph,
  options: CompileOptions = {},
): Promise<CompiledGraph> {
  const name = options.name ?? 'program';
  const keep = options.keep ?? graph.outputs.map((output) => output.value);
  const limits = gpu.limits;
  const lowered = lowerGraph(graph, { limits }, keep);

  const planned: PlannedTensor[] = [...lowered.tensors.values()].map((tensor) => ({
    id: tensor.id,
    byteLength: tensor.elements * 4,
    persistent: tensor.persistent,
    label: tensor.label,
  }));
  for (const tensor of planned) gpu.checkBindingSize(tensor.label, tensor.byteLength);
  const plan = planMemory(
    planned,
    lowered.dispatches.map(({ tensors }) => ({
      reads: tensors.filter((id) => id !== -1),
      writes: [],
    })),
  );
  const buffers = plan.buffers.map((bytes, index) => gpu.createBuffer(`${name}#${index}`, bytes));
  const unused = gpu.createBuffer(`${name} unused binding`, 16);
  const bindingOf = (id: number) => {
    if (id === -1) return unused;
    const tensor = lowered.tensors.get(id)!;
    return {
      buffer: buffers[plan.assignment.get(id)!]!,
      offset: 0,
      size: Math.max(4, tensor.elements * 4),
    };
  };

  const kernels = await Promise.all(
    lowered.dispatches.map(({ dispatch }) => gpu.kernel(dispatch.plan.spec)),
  );
  const dispatches: Dispatch[] = lowered.dispatches.map(({ dispatch, tensors }, index) => ({
    kernel: kernels[index]!,
    bindings: tensors.map(bindingOf),
    workgroups: dispatch.plan.workgroups,
    flops: dispatch.plan.flops,
    bytes: dispatch.plan.bytes,
  }));
  const program = new Program(gpu, name, dispatches);

  const bufferOfValue = new Map<number, { buffer: GPUBuffer; bytes: number }>();
  for (const [valueId, tensorId] of lowered.ofValue) {
    const binding = bindingOf(tensorId) as { buffer: GPUBuffer; size: number };
    bufferOfValue.set(valueId, { buffer: binding.buffer, bytes: binding.size });
  }
  for (const tensor of lowered.tensors.values()) {
    if (tensor.data) gpu.write(buffers[plan.assignment.get(tensor.id)!]!, tensor.data);
  }
  const initial = initialise(graph, options.seed ?? 0);
  const compiled = new CompiledGraph(gpu, graph, program, bufferOfValue, plan.totalBytes);
  for (const [stateName, data] of initial) compiled.writeState(stateName, data);
  return compiled;
}
