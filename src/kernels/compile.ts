// The compiler from graph IR to a GPU program. It lowers every node to kernel dispatches,
// plans buffers by liveness and allocates them once, then creates all pipelines in parallel.
// The dispatches are recorded into a Program that each run encodes into one command buffer.

import { GpuLimitError, UserError } from '../errors.js';
import { initialise } from '../graph/init.js';
import { numElements, type Graph, type Value } from '../graph/ir.js';
import { planMemory } from '../graph/plan-memory.js';
import { BufferUsage } from '../runtime/flags.js';
import type { Gpu } from '../runtime/gpu.js';
import type { BufferBinding } from '../runtime/kernel.js';
import { Program, type Dispatch } from '../runtime/program.js';
import './lower-dense.js';
import './lower-elementwise.js';
import './lower-norm.js';
import './lower-pool.js';
import './lower-shape.js';
import { lowerGraph, type ExtraLowering, type LoweredGraph } from './lower-graph.js';
import type { LowerLimits, Operand } from './lower.js';

export interface CompileOptions {
  /** Names the program in errors and profiles. */
  name?: string;
  /** Values read back after a run; they keep buffers of their own. Default: graph outputs. */
  keep?: readonly Value[];
  /** Seed of the parameter initialisation. Default 0. */
  seed?: number;
  /** Train mode (batch statistics, dropout) or eval mode. Default false. */
  training?: boolean;
  /**
   * A program whose parameter and buffer tensors this one uses instead of allocating and
   * initialising its own, matched by state_dict name (an eval program of a trained network).
   */
  shareStateWith?: CompiledGraph;
  /** Dispatches appended after the graph's, such as optimizer updates. */
  extra?: ExtraLowering;
  /** Later phases: each becomes a Program of its own on the same buffers (see lowerGraph). */
  phases?: ExtraLowering[];
  /**
   * Apply activations (and eval-mode norms and residuals) in the producing kernel's epilogue,
   * and fold a relu's gradient into the max pooling after it. Default true.
   */
  fuse?: boolean;
  /**
   * Plans every binding to at most this many bytes, when below the adapter's
   * maxStorageBufferBindingSize, so that tests exercise the splitting of large tensors on
   * small ones. Default: the adapter's limit.
   */
  maxBindingBytes?: number;
}

/** A buffer of the memory plan and the tensors assigned to it. */
export interface PlannedBuffer {
  bytes: number;
  tensors: string[];
}

/** A graph compiled for one device: its buffers, its Program, and typed access by value. */
export class CompiledGraph {
  constructor(
    private readonly gpu: Gpu,
    readonly graph: Graph,
    readonly program: Program,
    /** The programs of the later phases (CompileOptions.phases), in order. */
    readonly phasePrograms: readonly Program[],
    private readonly bufferOfValue: Map<number, GPUBuffer>,
    private readonly uniforms: Map<string, GPUBuffer>,
    private readonly states: Map<string, { buffer: GPUBuffer; elements: number }>,
    /** Device memory of the program's own tensors, in bytes. */
    readonly memoryBytes: number,
    /** Each planned buffer's size and the labels of the tensors that share it, largest first. */
    readonly memoryPlan: readonly PlannedBuffer[],
  ) {}

  /** Reads the state tensors lowerings keep across runs (optimizer moments), by key. */
  async readStateTensors(): Promise<Map<string, Float32Array>> {
    const result = new Map<string, Float32Array>();
    for (const [key, { buffer, elements }] of this.states) {
      result.set(key, await this.gpu.readF32(buffer, elements));
    }
    return result;
  }

  /** Restores state tensors saved by readStateTensors; every key must exist with its size. */
  writeStateTensors(tensors: ReadonlyMap<string, Float32Array>): void {
    for (const [key, data] of tensors) {
      const state = this.states.get(key);
      if (!state) throw new UserError(`The program has no state tensor '${key}'.`);
      if (data.length !== state.elements) {
        throw new UserError(
          `State tensor '${key}' has ${state.elements} values, got ${data.length}.`,
        );
      }
      this.gpu.write(state.buffer, data);
    }
  }

  buffer(v: Value): GPUBuffer {
    const buffer = this.bufferOfValue.get(v.id);
    if (!buffer) {
      throw new UserError(`Value #${v.id} (${v.name ?? v.kind}) has no buffer in this program.`);
    }
    return buffer;
  }

  /** Returns the buffer of the parameter or buffer named `name` (a state_dict name). */
  stateBuffer(name: string): GPUBuffer {
    return this.buffer(this.stateValue(name));
  }

  stateValue(name: string): Value {
    const state = this.graph.stateValues().find((candidate) => candidate.name === name);
    if (!state) throw new UserError(`The program has no parameter or buffer '${name}'.`);
    return state;
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
        `Input '${name}' needs ${numElements(input.shape)} values (shape ` +
          `[${input.shape.join(', ')}]), got ${data.length}.`,
      );
    }
    this.gpu.write(this.buffer(input), data);
  }

  /** Writes a parameter or buffer by state_dict name. */
  writeState(name: string, data: Float32Array): void {
    const state = this.stateValue(name);
    if (data.length !== numElements(state.shape)) {
      throw new UserError(
        `'${name}' has shape [${state.shape.join(', ')}] (${numElements(state.shape)} values), ` +
          `got ${data.length} values.`,
      );
    }
    this.gpu.write(this.buffer(state), data);
  }

  /** Writes the uniform buffer that a lowering declared under `key`. */
  writeUniform(key: string, data: Float32Array | Uint32Array): void {
    const buffer = this.uniforms.get(key);
    if (!buffer) throw new UserError(`The program has no uniform '${key}'.`);
    this.gpu.write(buffer, data);
  }

  /** Keys of the program's uniform buffers. */
  get uniformKeys(): string[] {
    return [...this.uniforms.keys()];
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
 * Turns dispatches with an in-place variant into it where that is safe: the overwritten
 * tensor is read by nothing after them, the output is used by nothing before them, and
 * neither is persistent. The output then becomes the overwritten tensor, which saves one
 * tensor of its size (a relu's input gradient writes over its output gradient). Dispatches
 * of one op split into pieces are rewritten together.
 */
function writeInPlace(lowered: LoweredGraph): void {
  const list = lowered.dispatches;
  const groups = new Map<string, number[]>();
  list.forEach(({ dispatch, tensors }, index) => {
    if (!dispatch.inPlace) return;
    const key = `${tensors[dispatch.inPlace.source]}:${tensors[dispatch.inPlace.output]}`;
    groups.set(key, [...(groups.get(key) ?? []), index]);
  });
  for (const members of groups.values()) {
    const { dispatch, tensors } = list[members[0]!]!;
    const source = tensors[dispatch.inPlace!.source]!;
    const output = tensors[dispatch.inPlace!.output]!;
    if (!canWriteInPlace(lowered, members, source, output)) continue;
    for (const index of members) {
      const entry = list[index]!;
      const { plan, output: slot } = entry.dispatch.inPlace!;
      const operands = entry.dispatch.operands.filter((_, s) => s !== slot);
      entry.dispatch = { plan, operands };
      entry.tensors = entry.tensors.filter((_, s) => s !== slot);
    }
    for (const entry of list)
      entry.tensors = entry.tensors.map((id) => (id === output ? source : id));
    for (const [valueId, id] of lowered.ofValue) {
      if (id === output) lowered.ofValue.set(valueId, source);
    }
    lowered.tensors.delete(output);
  }
}

function canWriteInPlace(
  lowered: LoweredGraph,
  members: number[],
  source: number,
  output: number,
): boolean {
  const [a, b] = [lowered.tensors.get(source), lowered.tensors.get(output)];
  if (!a || !b || a.persistent || b.persistent || a.elements !== b.elements) return false;
  if (a.data || b.data || a.fill !== undefined || b.fill !== undefined) return false;
  const first = members[0]!;
  const last = members.at(-1)!;
  const inGroup = new Set(members);
  return lowered.dispatches.every(({ dispatch, tensors }, index) => {
    if (inGroup.has(index)) {
      const { source: from, output: to } = dispatch.inPlace!;
      const window = (slot: number) => {
        const operand = dispatch.operands[slot]!;
        return JSON.stringify('window' in operand ? operand.window : undefined);
      };
      const slotsMatch = tensors.every(
        (id, slot) => (id !== source || slot === from) && (id !== output || slot === to),
      );
      return slotsMatch && window(from) === window(to);
    }
    if (tensors.includes(source) && index > first) return false;
    return !tensors.includes(output) || index > last;
  });
}

function lowerLimits(gpu: Gpu, maxBindingBytes: number | undefined): LowerLimits {
  const limits = gpu.limits;
  if (
    maxBindingBytes !== undefined &&
    !(Number.isInteger(maxBindingBytes) && maxBindingBytes >= 4)
  ) {
    throw new UserError(`maxBindingBytes must be an integer >= 4, got ${maxBindingBytes}.`);
  }
  return {
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    maxStorageBufferBindingSize: Math.min(
      limits.maxStorageBufferBindingSize,
      maxBindingBytes ?? Infinity,
    ),
    minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
    maxUniformBufferBindingSize: limits.maxUniformBufferBindingSize,
  };
}

/**
 * Rejects a dispatch that binds more than `limits` allow: a lowering that neither split its
 * op nor checked its tensors. The lowerings' own checks name the op first.
 */
function checkBindings(lowered: LoweredGraph, limits: LowerLimits): void {
  const limit = limits.maxStorageBufferBindingSize;
  for (const { dispatch, tensors } of lowered.dispatches) {
    tensors.forEach((id, slot) => {
      const tensor = lowered.tensors.get(id);
      if (!tensor) return;
      const operand = dispatch.operands[slot]!;
      const window = 'window' in operand ? operand.window : undefined;
      const bytes = (window ? window.elements : tensor.elements) * 4;
      // Packed weights bound as uniform buffers were sized for that limit by their planner.
      if (dispatch.plan.spec.bindings[slot] === 'uniform') return;
      if (bytes > limit) {
        throw new GpuLimitError(
          `Kernel '${dispatch.plan.spec.name}' binds tensor '${tensor.label}' with ${bytes} ` +
            `bytes, more than the maxStorageBufferBindingSize of ${limit} bytes. Use a ` +
            'smaller batch, patches or a smaller input shape.',
        );
      }
    });
  }
}

function allocate(gpu: Gpu, name: string, lowered: LoweredGraph, shared?: CompiledGraph) {
  const tensors = [...lowered.tensors.values()];
  // Shared state lives in the other program, so it is not planned here.
  const sharedIds = new Set<number>();
  const sharedBuffers = new Map<number, GPUBuffer>();
  if (shared) {
    for (const state of lowered.graph.stateValues()) {
      const id = lowered.ofValue.get(state.id)!;
      sharedIds.add(id);
      sharedBuffers.set(id, shared.stateBuffer(state.name!));
    }
  }
  const planned = tensors
    .filter((tensor) => !sharedIds.has(tensor.id))
    .map((tensor) => ({
      id: tensor.id,
      byteLength: tensor.elements * 4,
      persistent: tensor.persistent,
      label: tensor.label,
    }));
  const plan = planMemory(
    planned,
    lowered.dispatches.map(({ tensors: ids }) => ({
      reads: ids.filter((id) => id !== -1 && !sharedIds.has(id) && !lowered.uniforms.has(id)),
      writes: [],
    })),
  );
  const buffers = plan.buffers.map((bytes, index) => gpu.createBuffer(`${name}#${index}`, bytes));
  const uniforms = new Map<number, GPUBuffer>();
  for (const [id, uniform] of lowered.uniforms) {
    gpu.checkUniformSize(uniform.key, uniform.bytes);
    const usage = BufferUsage.UNIFORM | BufferUsage.COPY_DST;
    uniforms.set(id, gpu.createBuffer(uniform.key, uniform.bytes, usage));
  }
  const bufferOf = (id: number): GPUBuffer =>
    sharedBuffers.get(id) ?? uniforms.get(id) ?? buffers[plan.assignment.get(id)!]!;
  const report: PlannedBuffer[] = plan.buffers.map((bytes) => ({ bytes, tensors: [] }));
  for (const tensor of planned) report[plan.assignment.get(tensor.id)!]!.tensors.push(tensor.label);
  report.sort((a, b) => b.bytes - a.bytes);
  return { bufferOf, uniforms, totalBytes: plan.totalBytes, report };
}

/**
 * Compiles `graph` for `gpu`. Parameters and buffers get PyTorch's default initialisation
 * from `seed` (unless shared with another program); constants and state are filled. Inputs
 * must be written before each run.
 */
export async function compileGraph(
  gpu: Gpu,
  graph: Graph,
  options: CompileOptions = {},
): Promise<CompiledGraph> {
  const name = options.name ?? 'program';
  const keep = options.keep ?? graph.outputs.map((output) => output.value);
  const limits = lowerLimits(gpu, options.maxBindingBytes);
  const context = { limits, training: options.training ?? false };
  const lowered = lowerGraph(graph, context, keep, options.extra, {
    fuse: options.fuse,
    phases: options.phases,
  });
  writeInPlace(lowered);
  const { bufferOf, uniforms, totalBytes, report } = allocate(
    gpu,
    name,
    lowered,
    options.shareStateWith,
  );

  const unused = gpu.createBuffer(`${name} unused binding`, 16);
  const bindingOf = (id: number, operand: Operand): BufferBinding => {
    if (id === -1) return unused;
    if (lowered.uniforms.has(id)) return bufferOf(id);
    const tensor = lowered.tensors.get(id)!;
    const window = 'window' in operand ? operand.window : undefined;
    const offset = window ? window.offset * 4 : 0;
    const bytes = Math.max(4, (window ? window.elements : tensor.elements) * 4);
    return { buffer: bufferOf(id), offset, size: bytes };
  };
  checkBindings(lowered, limits);
  const kernels = await Promise.all(
    lowered.dispatches.map(({ dispatch }) => gpu.kernel(dispatch.plan.spec)),
  );
  const phases: Dispatch[][] = [[], ...(options.phases ?? []).map(() => [])];
  lowered.dispatches.forEach(({ dispatch, tensors, phase }, index) => {
    phases[phase]!.push({
      kernel: kernels[index]!,
      bindings: tensors.map((id, slot) => bindingOf(id, dispatch.operands[slot]!)),
      workgroups: dispatch.plan.workgroups,
      flops: dispatch.plan.flops,
      bytes: dispatch.plan.bytes,
    });
  });
  const [program, ...later] = phases.map(
    (list, phase) => new Program(gpu, phase === 0 ? name : `${name} phase ${phase}`, list),
  );

  const bufferOfValue = new Map<number, GPUBuffer>();
  for (const [valueId, tensorId] of lowered.ofValue) bufferOfValue.set(valueId, bufferOf(tensorId));
  const uniformByKey = new Map<string, GPUBuffer>();
  for (const [id, uniform] of lowered.uniforms) uniformByKey.set(uniform.key, uniforms.get(id)!);

  const stateByKey = new Map<string, { buffer: GPUBuffer; elements: number }>();
  for (const [key, id] of lowered.states) {
    stateByKey.set(key, { buffer: bufferOf(id), elements: lowered.tensors.get(id)!.elements });
  }
  for (const tensor of lowered.tensors.values()) {
    if (tensor.data) gpu.write(bufferOf(tensor.id), tensor.data);
    else if (tensor.fill !== undefined) {
      gpu.write(bufferOf(tensor.id), new Float32Array(tensor.elements).fill(tensor.fill));
    }
  }
  const compiled = new CompiledGraph(
    gpu,
    graph,
    program!,
    later,
    bufferOfValue,
    uniformByKey,
    stateByKey,
    totalBytes,
    report,
  );
  if (!options.shareStateWith) {
    for (const [stateName, data] of initialise(graph, options.seed ?? 0)) {
      compiled.writeState(stateName, data);
    }
  }
  return compiled;
}
