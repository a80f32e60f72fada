// GFLOP/s of the matmul and convolution kernels on the current adapter, for the layers of the
// reference CNN (batch 2, 1x80x96x80 input, conv3d 8/16/32 channels with kernel 3 and padding 1,
// 2x max pooling between layers), next to the square-matmul peak.
//
//   node --import ./scripts/node-loaders.mjs bench/kernels.ts [--reps N] [--only TEXT] [--write]
//
// --write records the table with the machine and adapter in bench/RESULTS-kernels.md.

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { acquireGpu, describeAdapter, Profiler, Program, type Gpu } from '../src/runtime/index.js';
import { planConvForward, planForwardPacking } from '../src/kernels/conv-forward.js';
import { planConvInputGrad, planInputGradPacking } from '../src/kernels/conv-dgrad.js';
import { planChannelSum, planConvWeightGrad, type SplitPlan } from '../src/kernels/conv-wgrad.js';
import { convTensorSizes, resolveConv, volume, type ConvGeometry } from '../src/kernels/conv.js';
import { planMatmul } from '../src/kernels/matmul.js';
import type { KernelPlan } from '../src/kernels/plan.js';
import { planMaxPoolBackward } from '../src/kernels/pool.js';

interface Row {
  name: string;
  /** Dispatches of one run, in order, with the byte size of every binding. */
  steps: { plan: KernelPlan; buffers: number[] }[];
}

const args = process.argv.slice(2);
const repsIndex = args.indexOf('--reps');
const reps = repsIndex >= 0 ? Number(args[repsIndex + 1]) || 5 : 5;
// --only TEXT keeps the rows whose name contains TEXT (the matmul peak rows always run).
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? '') : '';

function layer(inChannels: number, outChannels: number, size: number[]): ConvGeometry {
  return {
    batch: 2,
    inChannels,
    outChannels,
    inputSize: size,
    kernelSize: [3, 3, 3],
    padding: [
      [1, 1],
      [1, 1],
      [1, 1],
    ],
  };
}

const LAYERS: [string, ConvGeometry][] = [
  ['conv1 1->8 80x96x80', layer(1, 8, [80, 96, 80])],
  ['conv2 8->16 40x48x40', layer(8, 16, [40, 48, 40])],
  ['conv3 16->32 20x24x20', layer(16, 32, [20, 24, 20])],
];

function splitSteps(plan: SplitPlan, inputs: number[], output: number) {
  if (!plan.reduce) return [{ plan: plan.product, buffers: [...inputs, output] }];
  const scratch = plan.scratchElements;
  return [
    { plan: plan.product, buffers: [...inputs, scratch] },
    { plan: plan.reduce, buffers: [scratch, output] },
  ];
}

function rows(gpu: Gpu): Row[] {
  const result: Row[] = [];
  for (const size of [256, 512]) {
    const plan = planMatmul({ batch: 1, m: size, n: size, k: size }, {}, gpu.limits);
    const square = size * size;
    result.push({
      name: `matmul ${size}^3`,
      steps: [{ plan, buffers: [square, square, 1, square] }],
    });
  }
  for (const [name, geometry] of LAYERS) {
    const conv = resolveConv(geometry);
    const sizes = convTensorSizes(conv);
    const channels = conv.outChannels;
    const { input, weight, output } = sizes;
    const epilogue = { bias: true, activation: 'relu' } as const;
    for (const algorithm of ['gemm', 'direct'] as const) {
      const forward = planConvForward(geometry, epilogue, gpu.limits, undefined, algorithm);
      result.push({
        name: `${name} forward+bias+relu (${algorithm})`,
        steps: [{ plan: forward, buffers: [input, weight, channels, output] }],
      });
    }
    // The direct kernel as compiled programs run it: the weights packed first (see
    // conv_weight_packed.wgsl), both dispatches timed.
    const forwardPacking = planForwardPacking(geometry, gpu.limits);
    if (forwardPacking) {
      const table = forwardPacking.table;
      const forward = planConvForward(geometry, epilogue, gpu.limits, undefined, undefined, table);
      result.push({
        name: `${name} forward+bias+relu (direct, packed weights)`,
        steps: [
          { plan: forwardPacking.plan, buffers: [weight, table.elements] },
          { plan: forward, buffers: [input, table.elements, channels, output] },
        ],
      });
    }
    for (const algorithm of ['gemm', 'direct'] as const) {
      const dgrad = planConvInputGrad(geometry, gpu.limits, algorithm);
      result.push({
        name: `${name} input grad (${algorithm})`,
        steps: [{ plan: dgrad, buffers: [output, weight, 1, input] }],
      });
    }
    const gradientPacking = planInputGradPacking(geometry, gpu.limits);
    if (gradientPacking) {
      const table = gradientPacking.table;
      const dgrad = planConvInputGrad(geometry, gpu.limits, undefined, table);
      result.push({
        name: `${name} input grad (direct, packed weights)`,
        steps: [
          { plan: gradientPacking.plan, buffers: [weight, table.elements] },
          { plan: dgrad, buffers: [output, table.elements, 1, input] },
        ],
      });
    }
    for (const algorithm of ['gemm', 'direct'] as const) {
      const wgrad = planConvWeightGrad(geometry, gpu.limits, undefined, undefined, algorithm);
      result.push({
        name: `${name} weight grad (${algorithm})`,
        steps: splitSteps(wgrad, [output, input], weight),
      });
    }
    // The direct kernel with the bias gradient summed by extra threads of the same dispatch,
    // as compiled training steps run it for a convolution with a bias.
    const withBias = planConvWeightGrad(geometry, gpu.limits, undefined, undefined, 'direct', true);
    if (withBias.bias) {
      const steps = splitSteps(withBias, [output, input], weight);
      steps[0]!.buffers.push(withBias.bias.reduce ? withBias.bias.scratchElements : channels);
      if (withBias.bias.reduce) {
        steps.push({
          plan: withBias.bias.reduce,
          buffers: [withBias.bias.scratchElements, channels],
        });
      }
      result.push({ name: `${name} weight and bias grad (direct)`, steps });
    }
    const biasGrad = planChannelSum(
      { outer: conv.batch, channels, inner: volume(conv.output) },
      gpu.limits,
    );
    result.push({ name: `${name} bias grad`, steps: splitSteps(biasGrad, [output], channels) });
  }
  for (const shape of [
    [2, 8, 80, 96, 80],
    [2, 16, 40, 48, 40],
  ]) {
    const inputs = shape.reduce((product, size) => product * size, 1);
    for (const method of ['gather', 'scatter'] as const) {
      const geometry = { inputShape: shape, kernelSize: [2, 2, 2] };
      const plan = planMaxPoolBackward(geometry, gpu.limits, method);
      result.push({
        name: `maxpool 2 backward [${shape}] (${method})`,
        steps: [{ plan, buffers: [inputs / 8, inputs / 8, inputs] }],
      });
    }
  }
  return result;
}

async function measure(gpu: Gpu, row: Row): Promise<{ ms: number; flops: number; detail: string }> {
  const buffers: GPUBuffer[] = [];
  const byElements = new Map<number, GPUBuffer>();
  const dispatches = [];
  for (const step of row.steps) {
    const kernel = await gpu.kernel(step.plan.spec);
    // Steps share a buffer when their sizes match (scratch between a product and its reduction).
    const bindings = step.buffers.map((elements, slot) => {
      const output = slot === step.buffers.length - 1;
      const existing = byElements.get(elements);
      if (existing && !output) return existing;
      const buffer = gpu.createBuffer(`${row.name} ${slot}`, elements * 4);
      buffers.push(buffer);
      byElements.set(elements, buffer);
      return buffer;
    });
    const { workgroups, flops, bytes } = step.plan;
    dispatches.push({ kernel, bindings, workgroups, flops, bytes });
  }
  const program = new Program(gpu, row.name, dispatches);
  program.submit();
  await gpu.sync();
  // The minimum over runs: other processes share the CPU that lavapipe runs on, so the
  // fastest run is the closest to the kernel's own cost.
  let ms = Infinity;
  for (let i = 0; i < reps; i++) {
    const profiler = new Profiler(gpu);
    program.submit([], profiler);
    await gpu.sync();
    const timings = await profiler.results();
    ms = Math.min(
      ms,
      timings.reduce((sum, timing) => sum + timing.milliseconds, 0),
    );
  }
  for (const buffer of buffers) buffer.destroy();
  const flops = row.steps.reduce((sum, step) => sum + step.plan.flops, 0);
  const detail = row.steps
    .map((step) => `${step.plan.spec.name}[${step.plan.workgroups}]`)
    .join(' + ');
  return { ms, flops, detail };
}

async function main(): Promise<void> {
  const gpu = await acquireGpu();
  try {
    const adapter = describeAdapter(gpu.adapterInfo);
    const lines = [
      `| kernel | ms | GFLOP/s | % of matmul 512^3 | dispatches [workgroups] |`,
      `|---|---:|---:|---:|---|`,
    ];
    const all = rows(gpu);
    const peakRow = all.find((row) => row.name === 'matmul 512^3')!;
    for (const row of all) {
      if (!row.name.startsWith('matmul') && !row.name.includes(only)) continue;
      const { ms, flops, detail } = await measure(gpu, row);
      const gflops = flops / ms / 1e6;
      let share = '';
      if (!row.name.startsWith('matmul')) {
        // The peak is measured again right after each row, because the CPU's load drifts.
        const peak = await measure(gpu, peakRow);
        share = `${((100 * gflops) / (peak.flops / peak.ms / 1e6)).toFixed(0)}%`;
      }
      const line = `| ${row.name} | ${ms.toFixed(1)} | ${gflops.toFixed(2)} | ${share} | ${detail} |`;
      lines.push(line);
      console.log(line);
    }
    const profiler = new Profiler(gpu);
    const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), ${os.platform()} ${os.release()}`;
    const header = [
      '# Kernel benchmark',
      '',
      'Written by `node --import ./scripts/node-loaders.mjs bench/kernels.ts --write`.',
      '',
      `- Date: ${new Date().toISOString()}`,
      `- Machine: ${machine}, load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')} at the end`,
      `- Adapter: ${adapter}`,
      `- Timing: ${profiler.usesTimestamps ? 'timestamp queries per dispatch' : 'CPU time per submit'}, best of ${reps} runs after one warm-up`,
      '',
    ];
    const notes = [
      '',
      'lavapipe runs on the CPU, so on a machine shared with other processes the timings vary',
      'between runs (2-4x on a loaded machine); compare rows of one run, and read the load',
      'average above. "% of matmul 512^3" divides by a 512^3 matmul measured right after the row.',
      'Rows marked (gemm) and (direct), or (gather) and (scatter), run both kernels of one',
      'operation; the planners choose direct and scatter for these layers by default.',
    ];
    const text = [...header, ...lines, ...notes, ''].join('\n');
    if (args.includes('--write'))
      writeFileSync(new URL('./RESULTS-kernels.md', import.meta.url), text);
    else console.log(`\n${header.join('\n')}`);
  } finally {
    gpu.destroy();
  }
}

await main();
