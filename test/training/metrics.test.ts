import assert from 'node:assert/strict';
import type { Batch } from '../../src/data/batch.js';
import { ssim } from '../../src/metrics/index.js';
import type { EvaluatedBatch } from '../../src/models/model.js';
import { collectResults, computeMetrics, metricMode } from '../../src/training/metrics.js';

/** Builds an evaluated batch whose rows are `outputs`, with `fields` as the batch's fields. */
function evaluated(
  outputs: number[][],
  rowShape: number[],
  fields: Batch['fields'],
): EvaluatedBatch {
  const size = outputs.length;
  const batch: Batch = {
    fields,
    shapes: {},
    size,
    ids: outputs.map((_, row) => ({ participant_id: `sub-${row}`, session_id: '' })),
  };
  return {
    batch,
    output: Float32Array.from(outputs.flat()),
    outputShape: [size, ...rowShape],
    losses: { loss: new Float32Array(size) },
  };
}

describe('Trainer metrics', () => {
  it('computes PSNR against the input', () => {
    // The targets range over [0, 3]. Sample 0: MSE 1/4, so 10 log10(9 / 0.25) = 10 log10(36)
    // dB. Sample 1: MSE 1/2, so 10 log10(18) dB.
    const batch = evaluated(
      [
        [0, 1, 2, 4],
        [0, 2, 1, 0],
      ],
      [1, 4],
      {
        image: Float32Array.of(0, 1, 2, 3, 0, 2, 2, 1),
      },
    );
    const results = collectResults([batch], undefined);
    const { psnr } = computeMetrics(['psnr'], results);
    assert.ok(Math.abs(psnr! - (10 * Math.log10(36) + 10 * Math.log10(18)) / 2) < 1e-9);
  });

  it('computes PSNR against the label', () => {
    const batch = evaluated([[1, 2]], [1, 2], {
      image: Float32Array.of(9, 9),
      target: Float32Array.of(0, 2),
    });
    const { psnr } = computeMetrics(['psnr'], collectResults([batch], 'target'));
    // MSE 1/2 over a range of 2: 10 log10(8) dB.
    assert.ok(Math.abs(psnr! - 10 * Math.log10(8)) < 1e-9);
  });

  it('averages SSIM over channels and samples', () => {
    const grid = [3, 4, 5];
    const voxels = 60;
    const target = Array.from({ length: voxels }, (_, v) => Math.sin(v));
    const noisy = target.map((value, v) => value + 0.3 * Math.cos(7 * v));
    // Row 0: channel 0 exact, channel 1 noisy. Row 1: both exact.
    const rows = [
      [...target, ...noisy],
      [...target, ...target],
    ];
    const image = Float32Array.from([...target, ...target, ...target, ...target]);
    const batch = evaluated(rows, [2, ...grid], { image });
    const { ssim: value } = computeMetrics(['ssim'], collectResults([batch], undefined));
    const noisyScore = ssim(Float32Array.from(target), Float32Array.from(noisy), grid);
    assert.ok(noisyScore < 0.99);
    assert.ok(Math.abs(value! - (3 + noisyScore) / 4) < 1e-6);
  });

  it('takes 2D rows as one-slice volumes', () => {
    const target = Array.from({ length: 20 }, (_, v) => v % 7);
    const output = target.map((value) => value + 1);
    const batch = evaluated([output], [1, 4, 5], { image: Float32Array.from(target) });
    const { ssim: value } = computeMetrics(['ssim'], collectResults([batch], undefined));
    const expected = ssim(Float32Array.from(target), Float32Array.from(output), [4, 5, 1]);
    assert.ok(Math.abs(value! - expected) < 1e-6);
  });

  it('maximises PSNR and SSIM', () => {
    assert.equal(metricMode('psnr', ['loss']), 'max');
    assert.equal(metricMode('ssim', ['loss']), 'max');
  });

  const bad: [string, string, EvaluatedBatch, string | undefined, RegExp][] = [
    [
      'PSNR without a target',
      'psnr',
      evaluated([[1, 2]], [1, 2], {}),
      undefined,
      /with the label or, without a label field, with the input image/,
    ],
    [
      'SSIM of a label of another size',
      'ssim',
      evaluated([[1, 2]], [1, 2], { label: Int32Array.of(1) }),
      'label',
      /sample 0 has 2 output values and 1 target values/,
    ],
    [
      'SSIM of flat rows',
      'ssim',
      evaluated([[1, 2]], [2], { image: Float32Array.of(1, 2) }),
      undefined,
      /SSIM needs outputs of shape/,
    ],
    [
      'PSNR of constant targets',
      'psnr',
      evaluated(
        [
          [1, 2],
          [0, 0],
        ],
        [1, 2],
        { image: Float32Array.of(3, 3, 3, 3) },
      ),
      undefined,
      /every target value is 3/,
    ],
  ];
  for (const [title, name, batch, labelKey, message] of bad) {
    it(`rejects ${title}`, () => {
      assert.throws(() => computeMetrics([name], collectResults([batch], labelKey)), message);
    });
  }
});
