// Shared by the browser application's tests: the page bundled into a folder, the Node
// reference for one prediction, and pixel statistics of a screenshot.

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Page } from 'playwright-core';

import { bundleBrowser, ROOT } from '../../scripts/build.mjs';
import { readNifti } from '../../src/data/nifti/node.js';
import { loadImageKernels } from '../../src/data/wasm/loader.js';
import { compileInference } from '../../src/experiment/inference.js';
import { loadExperimentPath } from '../../src/experiment/node.js';
import { preprocessImage } from '../../src/experiment/preprocessing.js';
import { SaliencyProgram } from '../../src/inference/saliency.js';
import { acquireGpu } from '../../src/runtime/index.js';
import type { PageState } from '../../src/web/main.js';
import { runCli } from '../cli/helpers.js';

/** The quick demo's experiment and dataset, and the bundled page, shared by the test files. */
export interface WebFixture {
  root: string;
  maps: string;
  webRoot: string;
  /** The dataset's images and their diagnosis, in participants.tsv order. */
  images: string[];
  labels: string[];
}

let fixture: Promise<WebFixture> | undefined;

/**
 * Runs the quick demo and bundles the page once per test process; the folder is removed when
 * the process exits.
 */
export function webFixture(): Promise<WebFixture> {
  fixture ??= createFixture();
  return fixture;
}

async function createFixture(): Promise<WebFixture> {
  const root = mkdtempSync(join(tmpdir(), 'web-page-'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  const demo = await runCli('demo', '--quick', '--output', root);
  assert.equal(demo.status, 0, demo.stderr);
  const rows = readFileSync(join(root, 'dataset', 'participants.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'));
  const images = rows.map(([participant, session]) =>
    join(root, 'dataset', participant!, session!, 'anat', `${participant}_${session}_T1w.nii.gz`),
  );
  const webRoot = join(root, 'web');
  await buildPage(webRoot);
  const labels = rows.map((row) => row[2]!);
  return { root, maps: join(root, 'maps'), webRoot, images, labels };
}

/**
 * Waits until the page has finished `count` requests, then returns its state with typed arrays
 * turned into plain arrays (playwright returns plain JSON).
 */
export async function finishedState(page: Page, count: number): Promise<PageState> {
  await page.waitForFunction((n) => window.clinicadlWeb?.finished >= n, count, {
    timeout: 120_000,
  });
  return page.evaluate(() => {
    const state = window.clinicadlWeb;
    const prediction = state.prediction && {
      ...state.prediction,
      output: Array.from(state.prediction.output),
      image: { ...state.prediction.image, bytes: Array.from(state.prediction.image.bytes) },
      overlay: state.prediction.overlay && {
        ...state.prediction.overlay,
        bytes: Array.from(state.prediction.overlay.bytes),
      },
    };
    return JSON.parse(JSON.stringify({ ...state, prediction })) as PageState;
  });
}

// Node (Dawn on lavapipe) and Chromium (SwiftShader) run the same WGSL. On this machine the
// class scores and saliency maps of the quick demo's CNN came out bit for bit equal on four
// volumes. Other shader compilers may contract a*b+c into one rounding (FMA) or not, and over
// the few thousand products summed per score that changes f32 results by about 1e-6 of their
// size. A wrong weight or a voxel off by one moves the scores by 1e-3 or more, so the
// tolerance of 1e-4 lies between the two.
export const OUTPUT_TOLERANCE = 1e-4;

/** Bundles the page and its worker into `folder` with the files scripts/build.mjs copies. */
export async function buildPage(folder: string): Promise<void> {
  mkdirSync(folder, { recursive: true });
  await bundleBrowser({
    entryPoints: [join(ROOT, 'src/web/main.ts'), join(ROOT, 'src/web/worker.ts')],
    outdir: folder,
  });
  for (const name of ['index.html', 'style.css']) {
    copyFileSync(join(ROOT, 'src/web', name), join(folder, name));
  }
}

export interface NodePrediction {
  /** The preprocessed sample, `[C, D, H, W]` row-major. */
  input: Float32Array;
  output: Float32Array;
  /** |d score[target] / d input| summed over channels, for classification. */
  saliency?: Float32Array;
}

/** Runs an experiment (folder or zip) on one NIfTI file in Node, as the page's worker does. */
export async function predictInNode(
  experimentPath: string,
  imagePath: string,
  saliencyTarget?: number,
): Promise<NodePrediction> {
  const experiment = await loadExperimentPath(experimentPath);
  const kernels = await loadImageKernels();
  const prepared = preprocessImage(kernels, await readNifti(imagePath), {
    transforms: experiment.preprocessing!.transforms,
  });
  const input = prepared.samples[0]!.data;
  const gpu = await acquireGpu();
  try {
    const network = await compileInference(gpu, experiment);
    const output = await network.forward(input);
    if (saliencyTarget === undefined) return { input, output };
    const program = await SaliencyProgram.compile(gpu, experiment.buildGraph(1), {
      inputName: experiment.inputName,
      outputName: experiment.outputName,
      weights: experiment.weights,
    });
    const { saliency } = await program.run(input, [saliencyTarget]);
    return { input, output, saliency };
  } finally {
    gpu.destroy();
  }
}

/** Largest absolute difference between two arrays of the same length. */
export function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

export interface PixelStatistics {
  pixels: number;
  /** Standard deviation of the luminance, 0 to 255. */
  luminanceStd: number;
  /** Share of pixels brighter than the page's near-black background. */
  litShare: number;
  /** Share of pixels in the overlay's warm colours: red well above blue, and saturated. */
  warmShare: number;
  /** Share of grey pixels (the image under the overlay). */
  greyShare: number;
}

/** Decodes a PNG in the page (createImageBitmap) and measures its pixels. */
export function pixelStatistics(page: Page, png: Buffer): Promise<PixelStatistics> {
  return page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    const pixels = data.length / 4;
    let sum = 0;
    let sumSquares = 0;
    let lit = 0;
    let warm = 0;
    let grey = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
      const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      sum += luminance;
      sumSquares += luminance * luminance;
      if (luminance > 40) lit += 1;
      if (r - b > 80 && r > 150) warm += 1;
      if (luminance > 40 && Math.max(r, g, b) - Math.min(r, g, b) < 12) grey += 1;
    }
    const mean = sum / pixels;
    return {
      pixels,
      luminanceStd: Math.sqrt(sumSquares / pixels - mean * mean),
      litShare: lit / pixels,
      warmShare: warm / pixels,
      greyShare: grey / pixels,
    };
  }, png.toString('base64'));
}
