import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

import { encodeGreyPng, sliceDataUrl } from '../../src/report/png.js';
import { curves, renderReport, rocData, type ReportInput } from '../../src/report/report.js';
import type { EpochRecord } from '../../src/training/callbacks.js';

const record = (epoch: number, loss: number, validation: Record<string, number>): EpochRecord => ({
  epoch,
  train: { loss },
  validation,
  lrFactor: 1,
  seconds: 1,
  samplesPerSecond: 10,
});

// Logits whose softmax scores for class 1 (AD) rank 3 of the 4 positives above every negative.
function input(): ReportInput {
  const predictions = [
    { id: 'sub-1 ses-M000', label: 0, outputs: [2, 0] },
    { id: 'sub-2 ses-M000', label: 0, outputs: [0, 1] },
    { id: 'sub-3 ses-M000', label: 1, outputs: [0, 3] },
    { id: 'sub-4 ses-M000', label: 1, outputs: [0, 2] },
    { id: 'sub-5 ses-M000', label: 1, outputs: [1, 0] },
    { id: 'sub-6 ses-M000', label: 1, outputs: [0, 1.5] },
  ];
  const image = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  return {
    title: 'CNN <test>',
    model: 'SupervisedModel',
    history: [record(0, 0.9, { loss: 0.8, accuracy: 0.5 }), record(1, 0.4, {})],
    metrics: { loss: 0.25, balancedAccuracy: 0.875 },
    classes: ['CN', 'AD'],
    predictions,
    samples: [{ id: 'sub-3 ses-M000', image, shape: [1, 2, 3, 4], label: 'AD' }],
  };
}

/** Decodes the pixels of a grey PNG written by encodeGreyPng. */
function decodeGrey(png: Uint8Array): { width: number; height: number; pixels: number[] } {
  const view = new DataView(png.buffer, png.byteOffset);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const idatLength = view.getUint32(33);
  const rows = inflateSync(png.subarray(41, 41 + idatLength));
  const pixels: number[] = [];
  for (let y = 0; y < height; y++) {
    assert.equal(rows[y * (width + 1)], 0, 'filter type 0');
    pixels.push(...rows.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)));
  }
  return { width, height, pixels };
}

describe('report', () => {
  it('encodes grey PNG files that decode to the same pixels', () => {
    const pixels = Uint8Array.from([0, 64, 128, 255, 1, 2]);
    const png = encodeGreyPng(pixels, 3, 2);
    assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    assert.deepEqual(decodeGrey(png), { width: 3, height: 2, pixels: [...pixels] });
    assert.throws(() => encodeGreyPng(pixels, 4, 2), /expected 4x2x1, got 6 values/);
  });

  const slices: [number, number, number][] = [
    [2, 4, 3],
    [1, 4, 2],
    [0, 3, 2],
  ];
  for (const [axis, width, height] of slices) {
    it(`cuts the middle slice across axis ${axis} as a ${width}x${height} image`, () => {
      // Shape [C, D, H, W] = [1, 2, 3, 4]: x has 4 voxels, y 3 and z 2.
      const volume = Float32Array.from({ length: 24 }, (_, i) => i);
      const url = sliceDataUrl(volume, [1, 2, 3, 4], axis);
      const png = Buffer.from(url.replace('data:image/png;base64,', ''), 'base64');
      const decoded = decodeGrey(png);
      assert.equal(decoded.width, width);
      assert.equal(decoded.height, height);
      // The bottom-left pixel is the lowest voxel of the slice, the top-right the highest.
      const bottomLeft = decoded.pixels[(height - 1) * width]!;
      const topRight = decoded.pixels[width - 1]!;
      assert.ok(bottomLeft < topRight, `${bottomLeft} < ${topRight}`);
    });
  }

  it('builds per-epoch curves with gaps where an epoch has no validation', () => {
    assert.deepEqual(curves(input().history), {
      'train loss': [0.9, 0.4],
      'validation loss': [0.8, null],
      'validation accuracy': [0.5, null],
    });
  });

  it('computes the ROC of the last class from softmax scores', () => {
    const roc = rocData(input())!;
    assert.equal(roc.positive, 'AD');
    // Scores for AD: sub-3 > sub-4 > sub-6 > sub-2 > sub-5 > sub-1; 4 positives, 2 negatives.
    assert.deepEqual(roc.tpr, [0, 0.25, 0.5, 0.75, 0.75, 1, 1]);
    assert.deepEqual(roc.fpr, [0, 0, 0, 0, 0.5, 0.5, 1]);
    assert.equal(roc.auc, 0.875);
    assert.equal(rocData({ ...input(), classes: [] }), undefined);
  });

  it('renders a self-contained page with the plots and metrics it claims', () => {
    const html = renderReport(input());
    assert.match(html, /<title>CNN &lt;test&gt;<\/title>/);
    assert.ok(html.includes('uPlot'), 'the plotting library is inlined');
    assert.doesNotMatch(html, /<script[^>]+src=/, 'no external script');
    for (const id of ['plot-loss', 'plot-metrics', 'plot-roc', 'confusion', 'metrics']) {
      assert.match(html, new RegExp(`id="${id}"`), id);
    }
    assert.match(html, /<th>balancedAccuracy<\/th><td>0\.8750<\/td>/);
    assert.match(html, /AUC 0\.8750/);
    // Predicted by argmax: CN rows 1 right and 1 wrong, AD rows 3 right and 1 wrong.
    const cells = [...html.matchAll(/<td class="cell">(\d+)<\/td>/g)].map((m) => Number(m[1]));
    assert.deepEqual(cells, [1, 1, 1, 3]);
    assert.equal(html.match(/<img class="slice"[^>]+src="data:image\/png;base64,/g)?.length, 3);
    const data = JSON.parse(
      html.match(/id="report-data" type="application\/json">(.*?)<\/script>/)![1]!,
    );
    assert.deepEqual(data.epochs, [1, 2]);
    assert.deepEqual(data.curves['train loss'], [0.9, 0.4]);
  });

  it('leaves out the confusion matrix and ROC without classes', () => {
    const html = renderReport({ ...input(), classes: [], predictions: [] });
    assert.doesNotMatch(html, /id="confusion"|id="plot-roc"/);
    assert.match(html, /id="plot-loss"/);
  });
});
