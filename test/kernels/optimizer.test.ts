import assert from 'node:assert/strict';
import {
  adadeltaHyperparameters,
  adagradHyperparameters,
  adamHyperparameters,
  HYPER_BYTES,
  planAdadelta,
  planAdagrad,
  planAdam,
  planRmsprop,
  planSgd,
  rmspropHyperparameters,
  sgdHyperparameters,
} from '../../src/kernels/optimizer.js';
import type { KernelPlan } from '../../src/kernels/common.js';
import {
  adadeltaStep,
  adagradStep,
  adamStep,
  rmspropStep,
  sgdStep,
  type State,
} from '../../src/kernels/reference/optimizer.js';
import { acquireGpu, BufferUsage, type Gpu } from '../../src/runtime/index.js';
import { maxMixedError, randomValues } from './helpers.js';

const LIMITS = { maxStorageBufferBindingSize: 1 << 27 };
// Three f32 steps against float64, relative to 1 + |ref|.
const TOLERANCE = 1e-6;
const STEPS = 3;

interface Case {
  label: string;
  plan(elements: number): KernelPlan;
  /** Names of the state tensors in binding order, as the reference stores them. */
  state: string[];
  /** Initial value of every state tensor (Adagrad's initial accumulator). */
  initial?: number;
  hyper(step: number): Float32Array;
  reference(param: Float64Array, grad: Float32Array, state: State, step: number): void;
}

const sgd = (options: Parameters<typeof planSgd>[1], label: string): Case => ({
  label,
  plan: (n) => planSgd(n, options, LIMITS),
  state: ['momentum'],
  hyper: (step) => sgdHyperparameters(options, step),
  reference: (p, g, s, step) => sgdStep(p, g, s, options, step),
});

const adam = (options: Parameters<typeof planAdam>[1], label: string): Case => ({
  label,
  plan: (n) => planAdam(n, options, LIMITS),
  state: ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'],
  hyper: (step) => adamHyperparameters(options, step),
  reference: (p, g, s, step) => adamStep(p, g, s, options, step),
});

const rmsprop = (options: Parameters<typeof planRmsprop>[1], label: string): Case => ({
  label,
  plan: (n) => planRmsprop(n, options, LIMITS),
  state: ['square_avg', 'grad_avg', 'momentum'],
  hyper: () => rmspropHyperparameters(options),
  reference: (p, g, s) => rmspropStep(p, g, s, options),
});

const adagradOptions = { lr: 0.1, lrDecay: 0.05, weightDecay: 0.01 };
const adadeltaOptions = { lr: 0.5, rho: 0.8, weightDecay: 0.02 };

const CASES: Case[] = [
  sgd({ lr: 0.1 }, 'SGD'),
  sgd({ lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }, 'SGD momentum'),
  sgd({ lr: 0.05, momentum: 0.9, nesterov: true, maximize: true }, 'SGD Nesterov maximize'),
  adam({}, 'Adam'),
  adam({ lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.1, amsgrad: true }, 'Adam AMSGrad'),
  adam({ lr: 0.01, decoupled: true }, 'AdamW'),
  rmsprop({ lr: 0.01 }, 'RMSprop'),
  rmsprop({ lr: 0.01, momentum: 0.5, centered: true, weightDecay: 0.1 }, 'RMSprop centered'),
  {
    label: 'Adagrad',
    plan: (n) => planAdagrad(n, adagradOptions, LIMITS),
    state: ['sum'],
    initial: 0.1,
    hyper: (step) => adagradHyperparameters(adagradOptions, step),
    reference: (p, g, s, step) => adagradStep(p, g, s, adagradOptions, step, 0.1),
  },
  {
    label: 'Adadelta',
    plan: (n) => planAdadelta(n, adadeltaOptions, LIMITS),
    state: ['square_avg', 'acc_delta'],
    hyper: () => adadeltaHyperparameters(adadeltaOptions),
    reference: (p, g, s) => adadeltaStep(p, g, s, adadeltaOptions),
  },
];

describe('optimizer kernels', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const testCase of CASES) {
    // 37: the scalar path; 64: the vec4 path.
    for (const elements of [37, 64]) {
      it(`${testCase.label}, ${STEPS} steps on ${elements} values`, async () => {
        const initial = randomValues(elements, 1, -1, 1);
        const expected = Float64Array.from(initial);
        const state: State = {};
        for (const name of testCase.state) {
          state[name] = new Float64Array(elements).fill(testCase.initial ?? 0);
        }
        const plan = testCase.plan(elements);
        const kernel = await gpu.kernel(plan.spec);
        const param = gpu.upload('param', initial);
        const grad = gpu.createBuffer('grad', elements * 4);
        const states = testCase.state.map((name) =>
          gpu.upload(name, Float32Array.from(state[name]!)),
        );
        const uniform = gpu.createBuffer(
          'hyper',
          HYPER_BYTES,
          BufferUsage.UNIFORM | BufferUsage.COPY_DST,
        );
        for (let step = 1; step <= STEPS; step++) {
          const g = randomValues(elements, 10 + step, -0.5, 0.5);
          gpu.write(grad, g);
          gpu.write(uniform, testCase.hyper(step));
          await gpu.run(kernel, [param, grad, ...states, uniform], plan.workgroups);
          testCase.reference(expected, g, state, step);
        }
        const actual = await gpu.readF32(param, elements);
        assert.ok(maxMixedError(actual, expected) <= TOLERANCE, 'parameters');
        for (const [k, name] of testCase.state.entries()) {
          const values = await gpu.readF32(states[k]!, elements);
          assert.ok(maxMixedError(values, state[name]!) <= TOLERANCE, `state ${name}`);
        }
        for (const buffer of [param, grad, uniform, ...states]) buffer.destroy();
      });
    }
  }

  it('rejects bad hyper-parameters', () => {
    assert.throws(() => planSgd(4, { lr: -1 }, LIMITS), /lr must be/);
    assert.throws(() => planSgd(4, { lr: 0.1, nesterov: true }, LIMITS), /Nesterov/);
    assert.throws(() => planAdam(4, { betas: [1, 0.9] }, LIMITS), /betas\[0\]/);
    assert.throws(() => planAdadelta(4, { rho: 2 }, LIMITS), /rho/);
    assert.throws(() => planAdam(0, {}, LIMITS), /positive element count/);
  });
});
