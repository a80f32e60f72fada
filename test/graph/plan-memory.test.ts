import assert from 'node:assert/strict';
import { planMemory, type PlannedTensor } from '../../src/graph/plan-memory.js';

function tensor(id: number, byteLength: number, persistent = false): PlannedTensor {
  return { id, byteLength, persistent, label: `t${id}` };
}

describe('planMemory', () => {
  it('reuses a buffer once its tensor is dead', () => {
    // a -> b -> c -> d: a is dead after step 1, so c can take a's buffer.
    const tensors = [tensor(0, 1024), tensor(1, 1024), tensor(2, 1024), tensor(3, 1024)];
    const steps = [
      { reads: [0], writes: [1] },
      { reads: [1], writes: [2] },
      { reads: [2], writes: [3] },
    ];
    const plan = planMemory(tensors, steps);
    assert.equal(plan.buffers.length, 2);
    assert.equal(plan.assignment.get(0), plan.assignment.get(2));
    assert.equal(plan.assignment.get(1), plan.assignment.get(3));
    assert.equal(plan.unsharedBytes, 4096);
    assert.equal(plan.totalBytes, 2048);
  });

  it('never shares within one step', () => {
    const tensors = [tensor(0, 512), tensor(1, 512), tensor(2, 512)];
    const steps = [{ reads: [0, 1], writes: [2] }];
    const plan = planMemory(tensors, steps);
    const used = new Set([0, 1, 2].map((id) => plan.assignment.get(id)));
    assert.equal(used.size, 3);
  });

  it('keeps persistent tensors apart', () => {
    const tensors = [tensor(0, 256, true), tensor(1, 256), tensor(2, 256, true), tensor(3, 256)];
    const steps = [
      { reads: [0], writes: [1] },
      { reads: [1, 2], writes: [3] },
    ];
    const plan = planMemory(tensors, steps);
    const persistentBuffers = [plan.assignment.get(0), plan.assignment.get(2)];
    for (const id of [1, 3]) assert.ok(!persistentBuffers.includes(plan.assignment.get(id)));
  });

  it('does not place a tensor in a buffer too small', () => {
    const tensors = [tensor(0, 256), tensor(1, 256), tensor(2, 4096), tensor(3, 256)];
    const steps = [
      { reads: [0], writes: [1] },
      { reads: [1], writes: [2] },
      { reads: [2], writes: [3] },
    ];
    const plan = planMemory(tensors, steps);
    for (const item of tensors) {
      assert.ok(plan.buffers[plan.assignment.get(item.id)!]! >= item.byteLength, item.label);
    }
  });

  it('keeps a long-lived small tensor out of a large buffer', () => {
    // Tensor 0 (4096 B) dies after step 0, and tensor 1 (256 B) lives from step 1 to the end.
    // Tensors 2 and 3 (4096 B) come one after the other, so they fit in tensor 0's buffer
    // only if tensor 1 does not take it.
    const tensors = [tensor(0, 4096), tensor(1, 256), tensor(2, 4096), tensor(3, 4096)];
    const steps = [
      { reads: [0], writes: [] },
      { reads: [1], writes: [] },
      { reads: [2], writes: [] },
      { reads: [3], writes: [] },
      { reads: [1], writes: [] },
    ];
    const plan = planMemory(tensors, steps);
    assert.equal(plan.assignment.get(0), plan.assignment.get(2));
    assert.equal(plan.assignment.get(0), plan.assignment.get(3));
    assert.notEqual(plan.assignment.get(1), plan.assignment.get(0));
    assert.equal(plan.totalBytes, 4096 + 256);
  });

  it('rejects a step using an unknown tensor', () => {
    assert.throws(
      () => planMemory([tensor(0, 4)], [{ reads: [7], writes: [0] }]),
      /unknown tensor id 7/,
    );
  });
});
