// report.html of an experiment folder is one self-contained page, with uPlot and its CSS
// inlined and the slices as PNG data URLs, so it opens without a server. It shows the training
// curves, the test metrics, a classifier's confusion matrix and ROC curve, and a few test images
// with their saliency maps.

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import { confusionMatrix, rocAuc, rocCurve } from '../metrics/index.js';
import type { EpochRecord } from '../training/callbacks.js';
import { overlayDataUrl, saliencyScale } from './overlay.js';
import { sliceDataUrl } from './png.js';
import { REPORT_SCRIPT, REPORT_STYLE } from './page.js';

export interface ReportPrediction {
  id: string;
  /** The true class index; undefined without labels. */
  label: number | undefined;
  /** The network's outputs (class logits). */
  outputs: number[];
}

export interface ReportSample {
  id: string;
  /** The preprocessed image, `[C, D, H, W]`. */
  image: Float32Array;
  shape: readonly number[];
  label?: string;
  /** |d output[target] / d image|, the image's shape (or one channel); absent for none. */
  saliency?: Float32Array;
  /** The class whose score the saliency explains. */
  saliencyTarget?: string;
}

export interface ReportInput {
  title: string;
  model: string;
  history: readonly EpochRecord[];
  /** Test metrics by name. */
  metrics: Record<string, number>;
  /** Class names in index order; empty when the model does not classify. */
  classes: readonly string[];
  predictions: readonly ReportPrediction[];
  samples: readonly ReportSample[];
  /** Reason the samples have no saliency map, shown in place of the overlay's legend. */
  saliencyNote?: string;
}

/** The plotted data of the page, embedded as JSON. */
export interface ReportData {
  epochs: number[];
  curves: Record<string, (number | null)[]>;
  roc?: { fpr: number[]; tpr: number[]; auc: number; positive: string };
}

const require = createRequire(import.meta.url);

function uplotAssets(): { script: string; style: string } {
  const script = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const style = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return { script, style };
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Per-epoch curves: training losses and validation metrics, null where an epoch has none. */
export function curves(history: readonly EpochRecord[]): ReportData['curves'] {
  const result: ReportData['curves'] = {};
  const add = (name: string, values: (number | undefined)[]) => {
    result[name] = values.map((value) => (value === undefined ? null : value));
  };
  for (const name of new Set(history.flatMap((record) => Object.keys(record.train)))) {
    add(
      `train ${name}`,
      history.map((record) => record.train[name]),
    );
  }
  for (const name of new Set(history.flatMap((record) => Object.keys(record.validation)))) {
    add(
      `validation ${name}`,
      history.map((record) => record.validation[name]),
    );
  }
  return result;
}

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((value) => Math.exp(value - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / sum);
}

const argmax = (values: readonly number[]) => values.indexOf(Math.max(...values));

/** Predictions with a label and one output per class. */
function labelled(input: ReportInput): { label: number; outputs: number[] }[] {
  const count = input.classes.length;
  return input.predictions.filter(
    (p): p is { id: string; label: number; outputs: number[] } =>
      p.label !== undefined && p.outputs.length === count,
  );
}

/** ROC of the last class (the positive one) against the others, from softmax scores. */
export function rocData(input: ReportInput): ReportData['roc'] {
  const rows = labelled(input);
  const positive = input.classes.length - 1;
  const truth = rows.map((row) => (row.label === positive ? 1 : 0));
  if (positive < 1 || !truth.includes(1) || !truth.includes(0)) return undefined;
  const scores = rows.map((row) => softmax(row.outputs)[positive]!);
  const { fpr, tpr } = rocCurve(truth, scores);
  return { fpr, tpr, auc: rocAuc(truth, scores), positive: input.classes[positive]! };
}

function metricsTable(metrics: Record<string, number>): string {
  const rows = Object.entries(metrics)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${value.toFixed(4)}</td></tr>`);
  return `<table id="metrics"><tr><th>metric</th><th>test</th></tr>${rows.join('')}</table>`;
}

function confusionTable(input: ReportInput): string {
  const rows = labelled(input);
  if (input.classes.length < 2 || rows.length === 0) return '';
  const matrix = confusionMatrix(
    rows.map((row) => row.label),
    rows.map((row) => argmax(row.outputs)),
    input.classes.length,
  );
  const head = input.classes.map((name) => `<th>predicted ${escapeHtml(name)}</th>`).join('');
  const body = matrix.map(
    (counts, truth) =>
      `<tr><th>true ${escapeHtml(input.classes[truth]!)}</th>` +
      counts.map((count) => `<td class="cell">${count}</td>`).join('') +
      '</tr>',
  );
  return (
    '<section><h2>Confusion matrix (test)</h2>' +
    `<table id="confusion"><tr><th></th>${head}</tr>${body.join('')}</table></section>`
  );
}

function sampleFigure(sample: ReportSample): string {
  const plain = [0, 1, 2].map(
    (axis) =>
      `<img class="slice" alt="axis ${axis}" src="${sliceDataUrl(sample.image, sample.shape, axis)}">`,
  );
  const caption = escapeHtml(sample.label ? `${sample.id} (${sample.label})` : sample.id);
  if (sample.saliency === undefined) {
    return `<figure>${plain.join('')}<figcaption>${caption}</figcaption></figure>`;
  }
  const scale = saliencyScale(sample.saliency);
  const overlays = [0, 1, 2].map((axis) => {
    const url = overlayDataUrl(sample.image, sample.saliency!, sample.shape, axis, scale);
    return `<img class="slice saliency" alt="saliency, axis ${axis}" src="${url}">`;
  });
  const target = sample.saliencyTarget ? `, saliency of ${escapeHtml(sample.saliencyTarget)}` : '';
  return (
    `<figure>${plain.join('')}<br>${overlays.join('')}` +
    `<figcaption>${caption}${target}</figcaption></figure>`
  );
}

function slicesSection(samples: readonly ReportSample[], saliencyNote: string | undefined): string {
  if (samples.length === 0) return '';
  const withSaliency = samples.some((sample) => sample.saliency !== undefined);
  const explanation = withSaliency
    ? ' Below each image, the gradient saliency |d score / d input| of the class named in the ' +
      'caption is drawn in a heat colour scale (dark red to white, up to the 99th percentile ' +
      "of the sample's map), with its lowest 15% left transparent."
    : ` ${escapeHtml(saliencyNote ?? 'No saliency maps were computed.')}`;
  return (
    '<section><h2>Test images</h2><p>Middle sagittal, coronal and axial slices of the ' +
    `preprocessed input.${explanation}</p>` +
    `${samples.map(sampleFigure).join('')}</section>`
  );
}

/** Builds the HTML text of the report. */
export function renderReport(input: ReportInput): string {
  const { script, style } = uplotAssets();
  const data: ReportData = {
    epochs: input.history.map((record) => record.epoch + 1),
    curves: curves(input.history),
  };
  const roc = rocData(input);
  if (roc) data.roc = roc;
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const rocSection = roc
    ? `<section><h2>ROC curve (test, positive class ${escapeHtml(roc.positive)}, AUC ` +
      `${roc.auc.toFixed(4)})</h2><div id="plot-roc" class="plot"></div></section>`
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>${style}</style><style>${REPORT_STYLE}</style></head>
<body><h1>${escapeHtml(input.title)}</h1><p>${escapeHtml(input.model)}, ${input.history.length} epochs.</p>
<section><h2>Test metrics</h2>${metricsTable(input.metrics)}</section>
<section><h2>Training curves</h2><div id="plot-loss" class="plot"></div>
<div id="plot-metrics" class="plot"></div></section>
${confusionTable(input)}${rocSection}${slicesSection(input.samples, input.saliencyNote)}
<script id="report-data" type="application/json">${json}</script>
<script>${script}</script><script>${REPORT_SCRIPT}</script></body></html>
`;
}

/** Writes report.html to `path`. */
export async function writeReport(path: string, input: ReportInput): Promise<void> {
  await writeFile(path, renderReport(input));
}
