// The memory planner: assigns every tensor of a scheduled program to a GPU buffer so that
// tensors whose lifetimes do not overlap share one. Persistent tensors (parameters, their
// gradients, optimizer state, program inputs and outputs) get buffers of their own; the
// others are packed by liveness. The plan is computed once per compiled program and reused
// by every step, so nothing is allocated inside the training loop.

/** A tensor as the planner models it. */
export interface PlannedTensor {
  id: number;
  /** Size in bytes. */
  byteLength: number;
  /** Kept for the whole program (parameters, state, inputs, outputs): never shared. */
  persistent: boolean;
  /** For error messages and buffer labels. */
  label: string;
}

/** One dispatch of the schedule: the tensors it reads and writes, by id. */
export interface PlannedStep {
  reads: readonly number[];
  writes: readonly number[];
}

export interface MemoryPlan {
  /** Byte size of each buffer to allocate. */
  buffers: number[];
  /** Buffer index of each tensor id. */
  assignment: Map<number, number>;
  /** Sum of the buffer sizes: the program's device memory for tensors. */
  totalBytes: number;
  /** Bytes the same tensors would take with one buffer each, for reports. */
  unsharedBytes: number;
}

interface Interval {
  tensor: PlannedTensor;
  first: number;
  last: number;
}

/** Buffer sizes are rounded to this granularity so near-equal tensors can share. */
const GRANULE = 256;

function roundUp(bytes: number): number {
  return Math.max(GRANULE, Math.ceil(bytes / GRANULE) * GRANULE);
}

function liveIntervals(
  tensors: readonly PlannedTensor[],
  steps: readonly PlannedStep[],
): Interval[] {
  const byId = new Map(tensors.map((tensor) => [tensor.id, tensor]));
  const intervals = new Map<number, Interval>();
  steps.forEach((step, index) => {
    for (const id of [...step.writes, ...step.reads]) {
      const tensor = byId.get(id);
      if (!tensor) throw new Error(`Memory plan: step ${index} uses unknown tensor id ${id}.`);
      const interval = intervals.get(id);
      if (interval) interval.last = index;
      else intervals.set(id, { tensor, first: index, last: index });
    }
  });
  return [...intervals.values()];
}

/**
 * Plans buffers for `tensors` used by `steps` in order. A transient tensor lives from the
 * first to the last step that touches it. Tensors are placed largest first, each in the
 * smallest buffer none of whose tenants is alive at the same time, or in a new buffer of its
 * size (so every buffer is as large as its first and largest tenant). Placing the large ones
 * first keeps a small, long-lived tensor (a parameter's gradient waiting for the optimizer)
 * from holding a large buffer that later activations could have used. Two tensors of one
 * step are alive at the same time, so they never share a buffer, because WebGPU rejects a
 * buffer bound writable twice in one dispatch.
 */
export function planMemory(
  tensors: readonly PlannedTensor[],
  steps: readonly PlannedStep[],
): MemoryPlan {
  const buffers: number[] = [];
  const assignment = new Map<number, number>();
  let unsharedBytes = 0;

  for (const tensor of tensors) {
    unsharedBytes += roundUp(tensor.byteLength);
    if (tensor.persistent) {
      assignment.set(tensor.id, buffers.length);
      buffers.push(roundUp(tensor.byteLength));
    }
  }

  const persistent = new Set(tensors.filter((tensor) => tensor.persistent).map((t) => t.id));
  const intervals = liveIntervals(
    tensors.filter((tensor) => !tensor.persistent),
    steps.map((step) => ({
      reads: step.reads.filter((id) => !persistent.has(id)),
      writes: step.writes.filter((id) => !persistent.has(id)),
    })),
  ).sort((a, b) => b.tensor.byteLength - a.tensor.byteLength || a.first - b.first);

  // The live intervals of each shared buffer's tenants.
  const tenants = new Map<number, Interval[]>();
  for (const interval of intervals) {
    const size = roundUp(interval.tensor.byteLength);
    let chosen = -1;
    for (const [buffer, list] of tenants) {
      if (chosen >= 0 && buffers[buffer]! >= buffers[chosen]!) continue;
      const overlaps = list.some(
        (other) => other.first <= interval.last && interval.first <= other.last,
      );
      if (!overlaps) chosen = buffer;
    }
    if (chosen < 0) {
      chosen = buffers.length;
      buffers.push(size);
      tenants.set(chosen, []);
    }
    tenants.get(chosen)!.push(interval);
    assignment.set(interval.tensor.id, chosen);
  }

  // Tensors that no step touches (an unused input, say) still need a home.
  for (const tensor of tensors) {
    if (!assignment.has(tensor.id)) {
      assignment.set(tensor.id, buffers.length);
      buffers.push(roundUp(tensor.byteLength));
    }
  }
  const totalBytes = buffers.reduce((sum, size) => sum + size, 0);
  return { buffers, assignment, totalBytes, unsharedBytes };
}
