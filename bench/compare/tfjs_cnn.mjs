// Training step of the benchmark's reference CNN in TensorFlow.js, for bench/run.ts: the
// network of dsl/bench/reference-cnn.net as tf.layers (conv3d 'same', optional batch norm,
// ReLU, 2x max pooling, dense to 2 scores), softmax cross-entropy and Adam at 1e-3.
//
// TensorFlow.js is never a dependency of this project: it is loaded from a scratch folder,
//   mkdir -p /tmp/tfjs-bench && cd /tmp/tfjs-bench && npm init -y && npm install \
//     webgpu@0.6.2 @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-webgpu@4.22.0
//
// Usage: node bench/compare/tfjs_cnn.mjs --dir /tmp/tfjs-bench [--backend webgpu|cpu]
//          [--batch 2] [--size 80 96 80] [--steps 3] [--bn]
// Prints one JSON line: {"system", "firstStepMs", "stepMs"}, or {"system", "error"} when
// TensorFlow.js fails (exit status 0, so the caller reports the error as the result).

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function parseArgs(argv) {
  const options = {
    dir: '/tmp/tfjs-bench',
    backend: 'webgpu',
    batch: 2,
    size: [80, 96, 80],
    steps: 3,
    bn: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--dir') options.dir = argv[++i];
    else if (flag === '--backend') options.backend = argv[++i];
    else if (flag === '--batch') options.batch = Number(argv[++i]);
    else if (flag === '--steps') options.steps = Number(argv[++i]);
    else if (flag === '--size') options.size = argv.slice(i + 1, (i += 3) + 1).map(Number);
    else if (flag === '--bn') options.bn = true;
    else throw new Error(`Unknown option '${flag}'. See the usage at the top of tfjs_cnn.mjs.`);
  }
  return options;
}

/** Loads Dawn's binding and TensorFlow.js from the scratch folder, with WebGPU installed. */
async function loadTf(dir) {
  const require = createRequire(join(dir, 'package.json'));
  const webgpu = await import(pathToFileURL(require.resolve('webgpu')).href);
  Object.assign(globalThis, webgpu.globals);
  const navigator = { gpu: webgpu.create([]), userAgent: 'node' };
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true });
  const tf = require('@tensorflow/tfjs');
  require('@tensorflow/tfjs-backend-webgpu');
  return tf;
}

function buildModel(tf, { size, bn }) {
  const model = tf.sequential();
  for (const [index, filters] of [8, 16, 32].entries()) {
    const first = index === 0 ? { inputShape: [...size, 1] } : {};
    model.add(tf.layers.conv3d({ filters, kernelSize: 3, padding: 'same', ...first }));
    if (bn) model.add(tf.layers.batchNormalization());
    model.add(tf.layers.reLU());
    model.add(tf.layers.maxPooling3d({ poolSize: 2 }));
  }
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 2 }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: tf.losses.softmaxCrossEntropy });
  return model;
}

async function measure(tf, options) {
  const start = performance.now();
  const model = buildModel(tf, options);
  const x = tf.randomNormal([options.batch, ...options.size, 1]);
  const labels = tf.tensor1d(
    Array.from({ length: options.batch }, (_, row) => row % 2),
    'int32',
  );
  const y = tf.oneHot(labels, 2);
  await model.trainOnBatch(x, y);
  const firstStepMs = performance.now() - start;
  const stepMs = [];
  for (let step = 0; step < options.steps; step++) {
    const stepStart = performance.now();
    await model.trainOnBatch(x, y);
    stepMs.push(performance.now() - stepStart);
  }
  return { firstStepMs, stepMs };
}

const options = parseArgs(process.argv.slice(2));
const system = `tfjs-${options.backend}`;
let result;
try {
  const tf = await loadTf(options.dir);
  await tf.setBackend(options.backend);
  await tf.ready();
  result = { system, version: tf.version.tfjs, ...(await measure(tf, options)) };
} catch (error) {
  result = { system, error: error instanceof Error ? error.message : String(error) };
}
console.log(JSON.stringify(result));
// Dawn's binding keeps the process alive while its device exists.
process.exit(0);
