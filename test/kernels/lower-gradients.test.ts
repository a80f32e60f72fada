// Gradients of data-movement and element-wise ops, from autodiff through the GPU kernels,
// against central finite differences of the float64 interpreter in test/networks.

import assert from 'node:assert/strict';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph, numElements, type Value } from '../../src/graph/ir.js';
import { compileGraph } from '../../src/kernels/compile.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { runForward } from '../networks/cpu-forward.js';

const UNIFORM = { kind: 'uniform', low: -1, high: 1 } as const;

interface Case {
  name: string;
  inputShape: number[];
  build(graph: Graph, x: Value): Value;
}

const CASES: Case[] = [
  {
    name: 'matmul with transposes, permute',
    inputShape: [2, 4, 3],
    build(graph, x) {
      const b = graph.addParam('b', [2, 5, 4], UNIFORM);
      const y = graph.addNode('matmul', [x, b], { transposeA: true, transposeB: true })[0]!;
      return graph.addNode('permute', [y], { axes: [0, 2, 1] })[0]!;
    },
  },
  {
    name: 'strided slice and concat',
    inputShape: [2, 6, 5],
    build(graph, x) {
      const w = graph.addParam('w', [2, 6, 5], UNIFORM);
      const xw = graph.addNode('mul', [x, w], {})[0]!;
      const sliced = graph.addNode('slice', [xw], {
        begin: [0, 1, 0],
        end: [2, 6, 5],
        step: [1, 2, 1],
      })[0]!;
      return graph.addNode('concat', [sliced, xw], { axis: 1 })[0]!;
    },
  },
  {
    name: 'concat',
    inputShape: [2, 3, 5],
    build(graph, x) {
      const w = graph.addParam('w', [2, 4, 5], UNIFORM);
      return graph.addNode('concat', [x, w], { axis: 1 })[0]!;
    },
  },
  {
    name: 'strided slice',
    inputShape: [2, 6, 5],
    build(graph, x) {
      const w = graph.addParam('w', [2, 6, 5], UNIFORM);
      const xw = graph.addNode('mul', [x, w], {})[0]!;
      return graph.addNode('slice', [xw], {
        begin: [0, 1, 0],
        end: [2, 6, 5],
        step: [1, 2, 1],
      })[0]!;
    },
  },
  {
    name: 'unit-step slice',
    inputShape: [3, 7],
    build(graph, x) {
      const w = graph.addParam('w', [3, 7], UNIFORM);
      const xw = graph.addNode('mul', [x, w], {})[0]!;
      return graph.addNode('slice', [xw], { begin: [1, 2], end: [3, 6], step: [1, 1] })[0]!;
    },
  },
  {
    name: 'linear with a fused sigmoid',
    inputShape: [3, 5],
    build(graph, x) {
      const w = graph.addParam('w', [4, 5], UNIFORM);
      const b = graph.addParam('b', [4], UNIFORM);
      const h = graph.addNode('linear', [x, w, b], {})[0]!;
      return graph.addNode('sigmoid', [h], {})[0]!;
    },
  },
  {
    name: 'conv with a fused relu',
    inputShape: [1, 2, 5, 6],
    build(graph, x) {
      const w = graph.addParam('w', [3, 2, 3, 3], UNIFORM);
      const b = graph.addParam('b', [3], UNIFORM);
      const attrs = {
        stride: [1, 1],
        padding: [
          [1, 1],
          [0, 0],
        ] as [number, number][],
        dilation: [1, 1],
        groups: 1,
      };
      const h = graph.addNode('conv', [x, w, b], attrs)[0]!;
      return graph.addNode('relu', [h], {})[0]!;
    },
  },
  {
    name: 'prelu over channels',
    inputShape: [2, 3, 4, 4],
    build(graph, x) {
      const w = graph.addParam('w', [3], UNIFORM);
      const shift = graph.addParam('shift', [4], UNIFORM);
      const moved = graph.addNode('add', [x, shift], {})[0]!;
      return graph.addNode('prelu', [moved, w], {})[0]!;
    },
  },
  {
    name: 'broadcast, softmax',
    inputShape: [3, 4],
    build(graph, x) {
      const a = graph.addParam('a', [3, 1], UNIFORM);
      const b = graph.addParam('b', [1, 4], UNIFORM);
      const ab = graph.addNode('add', [a, b], {})[0]!;
      const y = graph.addNode('mul', [x, ab], {})[0]!;
      return graph.addNode('softmax', [y], { axis: 1 })[0]!;
    },
  },
];

/** A fixed, irregular pattern of `count` values in [-1, 1]. */
function pattern(count: number, phase: number): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => Math.sin(i * 1.37 + phase));
}

describe('gradients through the GPU kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const testCase of CASES) {
    it(`match finite differences: ${testCase.name}`, async () => {
      const forward = new Graph();
      const x = forward.addInput('input', testCase.inputShape);
      const y = testCase.build(forward, x);
      forward.setOutput('output', y);
      // loss = sum(y * r) for a fixed r, so dloss/dy = r exercises every output element.
      const weights = pattern(numElements(y.shape), 0.3);
      const withLoss = forward.clone();
      const r = withLoss.addConstant(Float32Array.from(weights), y.shape);
      const product = withLoss.addNode('mul', [withLoss.output('output')!, r], {})[0]!;
      const axes = y.shape.map((_, axis) => axis);
      const loss = withLoss.addNode('sum', [product], { axes, keepDims: false })[0]!;

      const backward = appendBackward(withLoss, loss, { inputs: ['input'] });
      const grads = [...backward.gradients.values(), ...backward.inputGradients.values()];
      const compiled = await compileGraph(gpu, backward.graph, { keep: grads, seed: 4 });
      const input = pattern(numElements(x.shape), 1.1);
      compiled.write('input', Float32Array.from(input));
      compiled.run();

      const state = new Map<string, Float64Array>();
      for (const param of backward.graph.params) {
        state.set(param.name!, Float64Array.from(await compiled.read(param)));
      }
      const objective = () => {
        const out = runForward(forward, input, state).data;
        return out.reduce((sum, value, i) => sum + value * weights[i]!, 0);
      };
      // The input's gradient (a saliency map) is checked like the parameters'.
      state.set('input', input);
      const checked = [...backward.gradients, ...backward.inputGradients];
      assert.ok(backward.inputGradients.has('input'));
      for (const [name, gradValue] of checked) {
        const gpuGrad = await compiled.read(gradValue);
        const values = state.get(name)!;
        for (let i = 0; i < values.length; i++) {
          const saved = values[i]!;
          const h = 1e-4;
          values[i] = saved + h;
          const up = objective();
          values[i] = saved - h;
          const down = objective();
          values[i] = saved;
          const expected = (up - down) / (2 * h);
          const error = Math.abs(gpuGrad[i]! - expected);
          assert.ok(
            error <= 1e-4 * Math.max(1, Math.abs(expected)),
            `${name}[${i}]: ${gpuGrad[i]} vs ${expected}`,
          );
        }
      }
    });
  }
});
