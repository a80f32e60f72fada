import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

import { encodeRgbPng } from '../../src/report/png.js';
import { heatColour, overlayDataUrl, saliencyScale } from '../../src/report/overlay.js';
import { renderReport, type ReportInput } from '../../src/report/report.js';

/** Decodes an 8-bit PNG of colour type 0 or 2 written by encodePng, filter 0 on every row. */
function decodePng(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const channels = png[25] === 2 ? 3 : 1;
  const idatLength = view.getUint32(33);
  const rows = inflateSync(png.subarray(41, 41 + idatLength));
  const rowBytes = width * channels;
  const pixels: number[] = [];
  for (let y = 0; y < height; y++) {
    assert.equal(rows[y * (rowBytes + 1)], 0, 'filter type 0');
    pixels.push(...rows.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1)));
  }
  return { width, height, channels, pixels };
}

const fromUrl = (url: string) =>
  decodePng(Buffer.from(url.replace('data:image/png;base64,', ''), 'base64'));

describe('saliency overlay', () => {
  it('encodes RGB PNG files that decode to the same pixels', () => {
    const pixels = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]);
    const decoded = decodePng(encodeRgbPng(pixels, 2, 2));
    assert.equal(decoded.channels, 3);
    assert.deepEqual(decoded.pixels, [...pixels]);
    assert.throws(() => encodeRgbPng(pixels, 3, 2), /expected 3x2x3, got 12 values/);
  });

  const colours: [number, [number, number, number]][] = [
    [0, [0, 0, 0]],
    [1 / 3, [255, 0, 0]],
    [2 / 3, [255, 255, 0]],
    [1, [255, 255, 255]],
    [2, [255, 255, 255]],
  ];
  for (const [t, rgb] of colours) {
    it(`maps ${t.toFixed(2)} to rgb ${rgb.join(' ')}`, () => {
      assert.deepEqual(heatColour(t), rgb);
    });
  }

  it('colours salient voxels and keeps the rest grey', () => {
    // Shape [1, 1, 2, 3]: one axial slice of 3 x 2 voxels; only voxel (2, 1) is salient.
    const image = Float32Array.of(0, 1, 2, 3, 4, 5);
    const saliency = Float32Array.of(0, 0, 0, 0, 0, 1);
    const decoded = fromUrl(overlayDataUrl(image, saliency, [1, 1, 2, 3], 2, 1));
    assert.deepEqual([decoded.width, decoded.height, decoded.channels], [3, 2, 3]);
    // The top row is y = 1, so voxel (2, 1) is the top-right pixel.
    const [r, g, b] = decoded.pixels.slice(6, 9);
    const grey = decoded.pixels.slice(0, 3);
    // The brightest voxel under the top of the heat scale stays white.
    assert.deepEqual([r, g, b], [255, 255, 255]);
    // A voxel without saliency keeps its grey level in all three channels.
    assert.equal(grey[1], grey[0]);
    assert.equal(grey[2], grey[0]);
    const half = fromUrl(
      overlayDataUrl(image, Float32Array.of(0, 0, 0, 0, 0, 0.4), [1, 1, 2, 3], 2, 1),
    );
    const [hr, hg, hb] = half.pixels.slice(6, 9);
    // A mid value is orange-red: more red than green, more green than blue.
    assert.ok(hr! > hg!, `${hr} > ${hg}`);
    assert.ok(hg! > hb!, `${hg} > ${hb}`);
  });

  it('scales to the 99th percentile', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => i);
    assert.equal(saliencyScale(values), 990);
    assert.equal(saliencyScale(Float32Array.of(0, 0, 3)), 3);
  });
});

describe('report saliency section', () => {
  const image = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const base: ReportInput = {
    title: 'CNN',
    model: 'SupervisedModel',
    history: [],
    metrics: {},
    classes: ['CN', 'AD'],
    predictions: [],
    samples: [{ id: 'sub-1 ses-M000', image, shape: [1, 2, 3, 4], label: 'AD' }],
  };

  it('draws overlays for samples with saliency', () => {
    const saliency = Float32Array.from(image, (value) => value / 23);
    const samples = [{ ...base.samples[0]!, saliency, saliencyTarget: 'AD' }];
    const html = renderReport({ ...base, samples });
    const overlays = html.match(/<img class="slice saliency"[^>]+src="data:image\/png;base64,/g);
    assert.equal(overlays?.length, 3);
    assert.match(html, /sub-1 ses-M000 \(AD\), saliency of AD/);
    assert.match(html, /heat colour scale/);
  });

  it('states why there is no overlay', () => {
    const note = 'A reconstruction model has no class score to explain.';
    const html = renderReport({ ...base, saliencyNote: note });
    assert.doesNotMatch(html, /class="slice saliency"/);
    assert.ok(html.includes(note));
  });
});
