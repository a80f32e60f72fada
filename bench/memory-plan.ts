// Prints the memory plan of the reference CNN's training step at a given batch and image size:
// the device bytes, the dispatch count, and the largest buffers with the tensors sharing them.
// With --step it also runs one step and prints its loss and time.
//
//   node --import ./scripts/node-loaders.mjs bench/memory-plan.ts [--batch N]
//        [--size DxHxW] [--top K] [--step]

import { parseArgs } from 'node:util';
import { acquireGpu } from '../src/runtime/index.js';
import { compileCnnStep, syntheticBatch, type CnnSetup } from './cnn-step.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '4' },
    size: { type: 'string', default: '169x208x179' },
    top: { type: 'string', default: '8' },
    step: { type: 'boolean', default: false },
  },
});
const size = values.size.split('x').map(Number) as [number, number, number];
if (size.length !== 3 || size.some((n) => !Number.isInteger(n) || n < 1)) {
  throw new Error(`--size must be DxHxW with positive integers, got '${values.size}'.`);
}
const setup: CnnSetup = { batchSize: Number(values.batch), imageSize: size, batchNorm: false };
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const gpu = await acquireGpu();
try {
  const start = performance.now();
  const program = await compileCnnStep(gpu, setup);
  const compiled = program.compiled;
  console.log(`compiled in ${(performance.now() - start).toFixed(0)} ms`);
  console.log(`device bytes: ${compiled.memoryBytes} (${mib(compiled.memoryBytes)})`);
  console.log(`dispatches per step: ${compiled.program.dispatches.length}`);
  for (const buffer of compiled.memoryPlan.slice(0, Number(values.top))) {
    console.log(`  ${mib(buffer.bytes).padStart(11)}  ${buffer.tensors.join(', ')}`);
  }
  if (values.step) {
    const stepStart = performance.now();
    const loss = await program.step(syntheticBatch(setup));
    console.log(`first step: loss ${loss}, ${(performance.now() - stepStart).toFixed(0)} ms`);
  }
} finally {
  gpu.destroy();
}
