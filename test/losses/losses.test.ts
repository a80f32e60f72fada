import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { appendBackward } from '../../src/graph/autodiff.js';
import { Graph } from '../../src/graph/ir.js';
import { compileGraph } from '../../src/kernels/compile.js';
import {
  CustomLoss,
  LOSS_NAMES,
  lossFromJSON,
  MSELossConfig,
  type LossConfig,
} from '../../src/losses/index.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';

/** PyTorch 1.13 losses and gradients (scripts/fixtures/torch_losses.py). */
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/torch/losses.json', import.meta.url), 'utf8'),
);

interface Case {
  title: string;
  config: { name: string; [key: string]: unknown };
  outputShape: number[];
  output: number[];
  targetShape: number[];
  target: number[];
  loss: number[];
  grad: number[];
}

/** Loss and gradient of `loss` for an output stored as a parameter, on the GPU. */
async function evaluate(gpu: Gpu, loss: LossConfig, item: Case, padTo?: number) {
  const batch = padTo ?? item.outputShape[0]!;
  const outputShape = [batch, ...item.outputShape.slice(1)];
  const graph = new Graph();
  const output = graph.addParam('output', outputShape, { kind: 'uniform', low: 0, high: 0 });
  const spec = loss.targetSpec(outputShape);
  const target = graph.addInput('target', spec.shape, spec.dtype);
  const rowWeight = padTo ? graph.addInput('rowWeight', [batch]) : undefined;
  const value = loss.appendLoss(graph, output, target, { rowWeight });
  const backward = appendBackward(graph, value, { trainable: () => true });
  const gradient = backward.gradients.get('output')!;
  const compiled = await compileGraph(gpu, backward.graph, { keep: [backward.loss, gradient] });
  const padded = new Float32Array(outputShape.reduce((a, b) => a * b, 1));
  padded.set(item.output);
  compiled.writeState('output', padded);
  const labels = item.config.name.endsWith('Loss') && spec.dtype === 'i32' ? Int32Array : null;
  const data =
    labels || loss.target === 'onehot'
      ? Int32Array.from(item.target)
      : Float32Array.from(item.target);
  const label = { key: 'label', data, shape: item.targetShape, size: item.outputShape[0]! };
  compiled.write('target', loss.prepareTarget(label, outputShape));
  if (padTo) compiled.write('rowWeight', loss.rowWeights(item.outputShape[0]!, padTo));
  compiled.run();
  return { loss: await compiled.read(backward.loss), grad: await compiled.read(gradient) };
}

function assertClose(
  actual: ArrayLike<number>,
  expected: number[],
  tolerance: number,
  what: string,
) {
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]!));
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tolerance * scale,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

describe('losses', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  for (const item of fixture.cases as Case[]) {
    it(`matches PyTorch: ${item.title}`, async () => {
      const result = await evaluate(gpu, lossFromJSON(item.config), item);
      assertClose(result.loss, item.loss, 2e-5, 'loss');
      assertClose(result.grad, item.grad, 2e-5, 'grad');
    });
  }

  const padded = ['mse mean', 'l1 sum', 'cross-entropy weights, smoothing', 'dice softmax one-hot'];
  for (const title of padded) {
    it(`ignores padded rows: ${title}`, async () => {
      const item = (fixture.cases as Case[]).find((entry) => entry.title === title)!;
      const result = await evaluate(gpu, lossFromJSON(item.config), item, item.outputShape[0]! + 2);
      assertClose(result.loss, item.loss, 2e-5, 'loss');
      const real = item.grad.length;
      assertClose(result.grad.subarray(0, real), item.grad, 2e-5, 'grad');
      assert.ok(
        result.grad.subarray(real).every((value) => value === 0),
        'padded rows get no gradient',
      );
    });
  }

  it('takes the gradient of a custom loss', async () => {
    const item = (fixture.cases as Case[]).find((entry) => entry.title === 'mse mean')!;
    const custom = new CustomLoss('squaredError', (output, target) => output.sub(target).square());
    const result = await evaluate(gpu, custom, item);
    assertClose(result.loss, item.loss, 2e-5, 'loss');
    assertClose(result.grad, item.grad, 2e-5, 'grad');
  });
});

describe('loss configs', () => {
  for (const name of LOSS_NAMES) {
    it(`round trips ${name} through JSON`, () => {
      const loss = lossFromJSON({ name });
      const json = JSON.parse(JSON.stringify(loss.toJSON()));
      assert.equal(json.name, name);
      assert.deepEqual(lossFromJSON(json).toJSON(), loss.toJSON());
    });
  }

  it('keeps non-default fields', () => {
    const json = { name: 'CrossEntropyLoss', weight: [1, 2], ignoreIndex: 3, labelSmoothing: 0.2 };
    assert.deepEqual(lossFromJSON(json).toJSON(), { ...json, reduction: 'mean' });
  });

  it('sets the reduction of a copy', () => {
    const loss = MSELossConfig({ reduction: 'sum' });
    assert.equal(loss.withReduction('none').reduction, 'none');
    assert.equal(loss.reduction, 'sum');
  });

  const bad: [string, unknown, RegExp][] = [
    ['misspelt name', { name: 'MSELos' }, /Did you mean 'MSELoss'/],
    ['unknown field', { name: 'HuberLoss', delt: 2 }, /unknown field 'delt'.*Did you mean 'delta'/],
    ['bad reduction', { name: 'L1Loss', reduction: 'avg' }, /L1LossConfig.reduction/],
    ['negative beta', { name: 'SmoothL1Loss', beta: -1 }, /SmoothL1LossConfig.beta/],
    ['smoothing out of range', { name: 'CrossEntropyLoss', labelSmoothing: 2 }, /labelSmoothing/],
    ['NLL smoothing', { name: 'NLLLoss', labelSmoothing: 0.1 }, /NLLLoss has no label smoothing/],
    ['Dice-CE sum', { name: 'DiceCELoss', reduction: 'sum' }, /DiceCELossConfig.reduction/],
    ['not an object', 'MSELoss', /must be a JSON object/],
    ['custom not given', { name: 'mine', custom: true }, /custom loss; pass it again/],
  ];
  for (const [title, json, message] of bad) {
    it(`rejects ${title}`, () => {
      assert.throws(() => lossFromJSON(json), message);
    });
  }
});

describe('loss targets', () => {
  const cases: [string, unknown, Float32Array | Int32Array, number[], RegExp][] = [
    ['class out of range', { name: 'CrossEntropyLoss' }, Int32Array.of(0, 3), [2], /row 1 is 3/],
    ['fractional class', { name: 'NLLLoss' }, Float32Array.of(0.5, 1), [2], /row 0 is 0.5/],
    [
      'wrong count',
      { name: 'MSELoss' },
      Float32Array.of(1, 2, 3),
      [3],
      /has 1 value\(s\) per sample, but MSELoss needs 3 per sample for a network output of shape \[3\]/,
    ],
    [
      'not finite',
      { name: 'MSELoss' },
      Float32Array.of(1, 2, 3, 4, NaN, 6),
      [2, 3],
      /row 1 is NaN/,
    ],
  ];
  for (const [title, json, data, shape, message] of cases) {
    it(`rejects ${title}`, () => {
      const loss = lossFromJSON(json);
      const label = { key: 'diagnosis', data, shape, size: shape[0]! };
      assert.throws(() => loss.prepareTarget(label, [2, 3]), message);
    });
  }

  it('one-hot encodes class indices', () => {
    const loss = lossFromJSON({ name: 'DiceLoss', toOnehotY: true });
    const label = { key: 'mask', data: Int32Array.of(2, 0, 1, 1), shape: [2, 1, 2], size: 2 };
    const target = loss.prepareTarget(label, [3, 3, 2]);
    assert.deepEqual([...target], [0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('pads class indices with the ignore index', () => {
    const loss = lossFromJSON({ name: 'CrossEntropyLoss', ignoreIndex: -1 });
    const label = { key: 'diagnosis', data: Int32Array.of(1, 0), shape: [2], size: 2 };
    assert.deepEqual([...loss.prepareTarget(label, [3, 2])], [1, 0, -1]);
  });
});
