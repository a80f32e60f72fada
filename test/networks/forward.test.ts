import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { Graph } from '../../src/graph/ir.js';
import { networkFromJSON } from '../../src/networks/registry.js';
import '../../src/networks/variants.js';
import { runForward } from './cpu-forward.js';
import { loadTorchvisionFixture, stateDictOrder } from './torchvision-fixture.js';

/**
 * Recomputes the state the fixture script gives the PyTorch model (formula_state in
 * scripts/fixtures/torchvision_params.py): entry k of the state_dict, element j, from
 * w = sin(2.4 j + 1.1 k).
 */
function formulaState(graph: Graph): Map<string, Float64Array> {
  const state = new Map<string, Float64Array>();
  stateDictOrder(graph.stateValues()).forEach((value, k) => {
    const name = value.name ?? '';
    if (name.endsWith('num_batches_tracked')) return;
    const count = value.shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(count);
    for (let j = 0; j < count; j++) {
      const wave = Math.sin(2.4 * j + 1.1 * k);
      if (name.endsWith('running_var')) data[j] = 1 + 0.5 * wave ** 2;
      else if (value.shape.length >= 2) data[j] = wave / Math.sqrt(count / value.shape[0]);
      else if (name.endsWith('weight')) data[j] = 1 + 0.2 * wave;
      else data[j] = 0.2 * wave;
    }
    state.set(name, data);
  });
  return state;
}

describe('forward values against PyTorch', () => {
  const { forward } = loadTorchvisionFixture();
  for (const [name, expected] of Object.entries(forward)) {
    it(`${name} in eval mode`, () => {
      const [batchSize, ...inputShape] = expected.inShape;
      const graph = networkFromJSON(expected.config).toGraph({ batchSize, inputShape });
      const count = expected.inShape.reduce((a, b) => a * b, 1);
      const input = Float64Array.from({ length: count }, (_, i) => Math.sin(0.1 * i));
      const output = runForward(graph, input, formulaState(graph));
      assert.deepEqual(output.shape, expected.outShape);
      // float64 on both sides: only summation order differs.
      output.data.forEach((value, i) => {
        const error = Math.abs(value - expected.output[i]);
        assert.ok(error < 1e-9, `${name} output[${i}]: ${value} vs ${expected.output[i]}`);
      });
    });
  }
});
