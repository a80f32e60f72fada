// Lowering: each IR op becomes one or more kernel dispatches. A lowering gets the node and a
// context and returns dispatches whose operands name IR values, tensors saved for the
// backward pass, scratch tensors or constants; the compiler then assigns them buffers.

import { GpuLimitError } from '../errors.js';
import type { Node, Value } from '../graph/ir.js';
import type { OpName } from '../graph/ops/index.js';
import type { FusedActivation } from './fuse.js';
import type { GemmLimits } from './matmul-tile.js';
import type { KernelPlan } from './plan.js';

/**
 * Elements [offset, offset + elements) of a tensor that one binding covers, so that a dispatch
 * of a split op binds less than maxStorageBufferBindingSize. `offset` times 4 bytes must be a
 * multiple of minStorageBufferOffsetAlignment (split.ts chooses such offsets).
 */
export interface Window {
  offset: number;
  elements: number;
}

/** What a kernel binding is bound to. */
export type Operand =
  /** An IR value's tensor, or a window of it. */
  | { kind: 'value'; value: Value; window?: Window }
  /**
   * A tensor the IR does not name: scratch space of one dispatch (split-K partial sums), or
   * a tensor saved by a forward op for its gradient (max pooling's argmax). Operands with the
   * same key are the same tensor.
   */
  | { kind: 'internal'; key: string; elements: number; window?: Window }
  /** Read-only data uploaded once (class weights of ones, say). */
  | { kind: 'constant'; key: string; data: Float32Array | Int32Array | Uint32Array }
  /** A tensor kept across runs (optimizer moments), filled with `fill` at compile time. */
  | { kind: 'state'; key: string; elements: number; fill: number }
  /** A small uniform buffer the host rewrites before each run (optimizer hyper-parameters). */
  | { kind: 'uniform'; key: string; bytes: number }
  /** A binding the kernel declares but does not read in this configuration (no bias). */
  | { kind: 'unused' };

export interface LoweredDispatch {
  plan: KernelPlan;
  /** One operand per binding of plan.spec, in order. */
  operands: Operand[];
  /**
   * A variant that writes its output over the tensor of operand `source`, used by the compiler
   * when no later dispatch reads that tensor (see compile.ts): `plan` binds the operands
   * without `output`, in the same order.
   */
  inPlace?: { plan: KernelPlan; source: number; output: number };
}

/**
 * The adapter limits lowerings plan against. maxStorageBufferBindingSize may be set below the
 * adapter's (CompileOptions.maxBindingBytes) so that tests split small tensors.
 */
export type LowerLimits = GemmLimits & {
  /** Default 256 bytes, the WebGPU default limit. */
  readonly minStorageBufferOffsetAlignment?: number;
  /** Undefined: no kernel binds a tensor as a uniform buffer (no packed weights). */
  readonly maxUniformBufferBindingSize?: number;
};

export interface LowerContext {
  readonly limits: LowerLimits;
  /** Train mode: batch statistics in norms, dropout on. Eval mode otherwise. */
  readonly training: boolean;
  /** A scratch tensor private to this node. */
  scratch(elements: number): Operand;
  /**
   * A tensor shared between a forward node and its gradient node, identified by `key` (built
   * from the forward input's value id and the op's attributes).
   */
  saved(key: string, elements: number): Operand;
  constant(key: string, data: Float32Array | Int32Array | Uint32Array): Operand;
  /** Makes `view` use `base`'s tensor: a reshape, which moves no data. */
  alias(view: Value, base: Value): void;
  /** Requires `value`'s tensor to have at least `elements` elements (kernels that write extras). */
  reserve(value: Value, elements: number): void;
  /**
   * The activation a producer's kernel applies in its epilogue, when fused (see fuse.ts), or
   * for a max pooling, the relu whose gradient it folds (see fuse-pool.ts).
   */
  fusedActivation(node: Node): FusedActivation | undefined;
  /** False for a tensor that fusion removed: a fused producer's pre-activation output. */
  materialized(value: Value): boolean;
}

export type Lowering = (node: Node, context: LowerContext) => LoweredDispatch[];

const lowerings = new Map<OpName, Lowering>();

/**
 * Registers the lowering of `op`. A GpuLimitError it throws is raised again with the op and
 * its layer in front, so that the user learns which layer is too large.
 */
export function registerLowering(op: OpName, lowering: Lowering): void {
  lowerings.set(op, (node, context) => {
    try {
      return lowering(node, context);
    } catch (error) {
      if (!(error instanceof GpuLimitError) || error.message.startsWith('Op ')) throw error;
      const where = node.scope ? ` (layer '${node.scope}')` : '';
      throw new GpuLimitError(`Op '${node.op}'${where}: ${error.message}`, { cause: error });
    }
  });
}

export function getLowering(op: OpName): Lowering | undefined {
  return lowerings.get(op);
}

export const value = (v: Value): Operand => ({ kind: 'value', value: v });
export const UNUSED: Operand = { kind: 'unused' };
