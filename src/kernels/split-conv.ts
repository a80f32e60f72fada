// Convolutions and per-channel sums over tensors larger than maxStorageBufferBindingSize, as
// one dispatch per piece of the batch (split.ts: runs of samples, or runs of channels of one
// sample). Weights, biases and their gradients are small and bound whole. Gradients that sum
// over the batch (weight and bias gradients) write each piece's partial sums to scratch and
// add them to the gradient in piece order, with no atomics, so every run has the same bits.

import type { ConvGeometry } from './conv.js';
import {
  planConvInputGrad,
  planConvTranspose,
  planInputGradPacking,
  planTransposePacking,
  type ConvTransposeGeometry,
} from './conv-dgrad.js';
import { planConvForward, planForwardPacking, type WeightPacking } from './conv-forward.js';
import {
  planChannelSum,
  planConvWeightGrad,
  planSplitSum,
  type ChannelSumGeometry,
} from './conv-wgrad.js';
import { volume } from './conv.js';
import type { LowerContext, LoweredDispatch, Operand } from './lower.js';
import type { Epilogue, KernelPlan } from './plan.js';
import { splitSamples, windowOf, type SamplePiece, type SplitOperand } from './split.js';

/** A convolution's tensors: input, weight, bias (or unused), output, epilogue operands. */
export interface ConvOperands {
  x: Operand;
  weight: Operand;
  bias: Operand;
  y: Operand;
  /** Bound after y when the epilogue folds a norm or residual: stats, weight, bias, residual. */
  extra: readonly Operand[];
}

/** Scales per-channel operands to whole samples of `channels` channels. */
function perSample(operands: readonly SplitOperand[], channels: number): SplitOperand[] {
  return operands.map((o) => ({ ...o, elementsPerUnit: o.elementsPerUnit * channels }));
}

function spatialVolumes(geometry: ConvGeometry, output: readonly number[]) {
  return { input: volume(geometry.inputSize), output: volume(output) };
}

/** Binds samples (and channels) of a [N, C, ...] tensor with `perChannel` elements a plane. */
function pieceWindow(
  operand: Operand,
  piece: SamplePiece,
  channels: number,
  perChannel: number,
): Operand {
  const offset = (piece.sample * channels + piece.channel) * perChannel;
  return windowOf(operand, offset, piece.samples * piece.channels * perChannel);
}

/**
 * Returns the weights that the pieces' kernels bind. With `packing`, that is the packed table,
 * written once by a dispatch before theirs, if every piece can read it (a run of channels
 * must start at and hold a multiple of 4 channels). Otherwise it is the weight tensor.
 */
function packedWeights(
  context: LowerContext,
  packing: WeightPacking | undefined,
  pieces: readonly SamplePiece[],
  weight: Operand,
) {
  const fits = pieces.every((piece) => piece.channel % 4 === 0 && piece.channels % 4 === 0);
  if (!packing || !fits) return { table: undefined, weight, dispatches: [] };
  const packed = context.scratch(packing.table.elements);
  const dispatches: LoweredDispatch[] = [{ plan: packing.plan, operands: [weight, packed] }];
  return { table: packing.table, weight: packed, dispatches };
}

/**
 * Returns a piece's epilogue operands: the norm's are bound whole, and the residual (the
 * fourth one) is windowed like the output, whose layout it has.
 */
function extraWindows(
  extra: readonly Operand[],
  settings: Epilogue,
  piece: SamplePiece,
  outChannels: number,
  perChannel: number,
): Operand[] {
  return extra.map((operand, slot) =>
    slot === 3 && settings.residual
      ? pieceWindow(operand, piece, outChannels, perChannel)
      : operand,
  );
}

/** Plans each distinct piece once: pieces with the same key share a KernelPlan. */
function cachedPlans<T>(plan: (piece: SamplePiece) => T): (piece: SamplePiece) => T {
  const plans = new Map<string, T>();
  return (piece) => {
    const key = `${piece.samples}:${piece.channel}:${piece.channels}`;
    if (!plans.has(key)) plans.set(key, plan(piece));
    return plans.get(key)!;
  };
}

/**
 * Lowers y = epilogue(conv(x, weight) + bias), split by samples, then by output channels
 * (groups = 1 only) when one sample's output exceeds the binding limit.
 */
export function lowerConvForward(
  context: LowerContext,
  geometry: ConvGeometry,
  outputSize: readonly number[],
  settings: Epilogue,
  operands: ConvOperands,
): LoweredDispatch[] {
  const { batch, inChannels, outChannels } = geometry;
  const sizes = spatialVolumes(geometry, outputSize);
  const all = [operands.x, operands.weight, operands.bias, operands.y, ...operands.extra];

  const folded = settings.norm !== undefined && settings.norm !== 'none';
  // Channel groups of one sample read weight and bias rows from OUT_CHANNEL_BASE on. Grouped
  // convolutions and folded norms index their channels from 0, so they split by sample only.
  const byChannel = (geometry.groups ?? 1) === 1 && !folded;
  const outputs: SplitOperand[] = [{ label: 'convolution output', elementsPerUnit: sizes.output }];
  if (settings.residual) outputs.push({ label: 'residual', elementsPerUnit: sizes.output });
  const input = { label: 'convolution input', elementsPerUnit: inChannels * sizes.input };
  const pieces = byChannel
    ? splitSamples(batch, outChannels, [input], outputs, context.limits)
    : splitSamples(
        batch,
        outChannels,
        [input, ...perSample(outputs, outChannels)],
        [],
        context.limits,
      );
  const packing = planForwardPacking(geometry, context.limits);
  const packed = packedWeights(context, packing, pieces, operands.weight);
  const plan = cachedPlans((piece) =>
    planConvForward(
      pieces.length === 1
        ? geometry
        : {
            ...geometry,
            batch: piece.samples,
            outChannels: piece.channels,
            outChannelBase: piece.channel,
          },
      settings,
      context.limits,
      undefined,
      undefined,
      packed.table,
    ),
  );
  if (pieces.length === 1) {
    all[1] = packed.weight;
    return [...packed.dispatches, { plan: plan(pieces[0]!), operands: all }];
  }
  return [
    ...packed.dispatches,
    ...pieces.map((piece) => {
      const extra = extraWindows(operands.extra, settings, piece, outChannels, sizes.output);
      const input = { ...piece, channel: 0, channels: inChannels };
      return {
        plan: plan(piece),
        operands: [
          pieceWindow(operands.x, input, inChannels, sizes.input),
          packed.weight,
          operands.bias,
          pieceWindow(operands.y, piece, outChannels, sizes.output),
          ...extra,
        ],
      };
    }),
  ];
}

/** Lowers a transposed convolution, split by samples only. */
export function lowerConvTranspose(
  context: LowerContext,
  geometry: ConvTransposeGeometry,
  outputSize: readonly number[],
  settings: Epilogue,
  operands: ConvOperands,
): LoweredDispatch[] {
  const { batch, inChannels, outChannels } = geometry;
  const sizes = spatialVolumes(geometry, outputSize);
  const sampleElements = outChannels * sizes.output;
  const split: SplitOperand[] = [
    { label: 'transposed convolution input', elementsPerUnit: inChannels * sizes.input },
    { label: 'transposed convolution output', elementsPerUnit: sampleElements },
  ];
  if (settings.residual) split.push({ label: 'residual', elementsPerUnit: sampleElements });
  const pieces = splitSamples(batch, outChannels, split, [], context.limits);
  const packing = planTransposePacking(geometry, context.limits);
  const packed = packedWeights(context, packing, pieces, operands.weight);
  const plan = cachedPlans((piece) =>
    planConvTranspose(
      { ...geometry, batch: piece.samples },
      settings,
      context.limits,
      packed.table,
    ),
  );
  if (pieces.length === 1) {
    const all = [operands.x, packed.weight, operands.bias, operands.y, ...operands.extra];
    return [...packed.dispatches, { plan: plan(pieces[0]!), operands: all }];
  }
  return [
    ...packed.dispatches,
    ...pieces.map((piece) => ({
      plan: plan(piece),
      operands: [
        pieceWindow(operands.x, { ...piece, channels: inChannels }, inChannels, sizes.input),
        packed.weight,
        operands.bias,
        pieceWindow(operands.y, piece, outChannels, sizes.output),
        ...extraWindows(operands.extra, settings, piece, outChannels, sizes.output),
      ],
    })),
  ];
}

/** Lowers dx = convInputGrad(dy, weight), split by samples. */
export function lowerConvInputGrad(
  context: LowerContext,
  geometry: ConvGeometry,
  outputSize: readonly number[],
  dy: Operand,
  weight: Operand,
  dx: Operand,
): LoweredDispatch[] {
  const { batch, inChannels, outChannels } = geometry;
  const sizes = spatialVolumes(geometry, outputSize);
  const pieces = splitSamples(
    batch,
    inChannels,
    [
      { label: 'convolution output gradient', elementsPerUnit: outChannels * sizes.output },
      { label: 'convolution input gradient', elementsPerUnit: inChannels * sizes.input },
    ],
    [],
    context.limits,
  );
  const unused: Operand = { kind: 'unused' };
  const packing = planInputGradPacking(geometry, context.limits);
  const packed = packedWeights(context, packing, pieces, weight);
  const plan = cachedPlans((piece) =>
    planConvInputGrad(
      { ...geometry, batch: piece.samples },
      context.limits,
      undefined,
      packed.table,
    ),
  );
  if (pieces.length === 1) {
    return [
      ...packed.dispatches,
      { plan: plan(pieces[0]!), operands: [dy, packed.weight, unused, dx] },
    ];
  }
  return [
    ...packed.dispatches,
    ...pieces.map((piece) => ({
      plan: plan(piece),
      operands: [
        pieceWindow(dy, { ...piece, channels: outChannels }, outChannels, sizes.output),
        packed.weight,
        unused,
        pieceWindow(dx, piece, inChannels, sizes.input),
      ],
    })),
  ];
}

/**
 * Lowers dweight = convWeightGrad(x, dy), and with `db` the bias gradient (dy summed per
 * channel), split by samples, then by output channels (rows of dweight) when one sample's dy
 * exceeds the binding limit. Each piece's partial sums go to scratch. An ordered sum then
 * writes them to dweight's rows for a channel group's first piece and adds them for the next
 * ones. An unsplit direct kernel computes db in the same dispatch; otherwise db is a channel
 * sum of its own.
 */
export function lowerConvWeightGrad(
  context: LowerContext,
  geometry: ConvGeometry,
  outputSize: readonly number[],
  x: Operand,
  dy: Operand,
  dw: Operand,
  db?: Operand,
): LoweredDispatch[] {
  const dispatches = lowerWeightGradOnly(context, geometry, outputSize, x, dy, dw, db);
  if (!db || dispatches.withBias) return dispatches.list;
  const block = {
    outer: geometry.batch,
    channels: geometry.outChannels,
    inner: volume(outputSize),
  };
  return [...dispatches.list, ...lowerChannelSum(context, block, dy, db)];
}

function lowerWeightGradOnly(
  context: LowerContext,
  geometry: ConvGeometry,
  outputSize: readonly number[],
  x: Operand,
  dy: Operand,
  dw: Operand,
  db: Operand | undefined,
): { list: LoweredDispatch[]; withBias: boolean } {
  const { batch, inChannels, outChannels } = geometry;
  const sizes = spatialVolumes(geometry, outputSize);
  const input = { label: 'convolution input', elementsPerUnit: inChannels * sizes.input };
  const dyChannel = [{ label: 'convolution output gradient', elementsPerUnit: sizes.output }];
  // Grouped convolutions split by sample only, because a channel group of dy reads a group
  // of x's channels.
  const pieces =
    (geometry.groups ?? 1) === 1
      ? splitSamples(batch, outChannels, [input], dyChannel, context.limits)
      : splitSamples(
          batch,
          outChannels,
          [input, ...perSample(dyChannel, outChannels)],
          [],
          context.limits,
        );
  if (pieces.length === 1) {
    const withBias = db !== undefined;
    const split = planConvWeightGrad(
      geometry,
      context.limits,
      undefined,
      undefined,
      undefined,
      withBias,
    );
    const list: LoweredDispatch[] = [];
    const output = (reduce: KernelPlan | undefined, elements: number, result: Operand) => {
      if (!reduce) return result;
      const partials = context.scratch(elements);
      list.push({ plan: reduce, operands: [partials, result] });
      return partials;
    };
    const operands = [dy, x, output(split.reduce, split.scratchElements, dw)];
    if (split.bias && db) operands.push(output(split.bias.reduce, split.bias.scratchElements, db));
    return { list: [{ plan: split.product, operands }, ...list], withBias: !!split.bias };
  }
  const rowLength = (inChannels / (geometry.groups ?? 1)) * volume(geometry.kernelSize);
  const plan = cachedPlans((piece) => {
    const split = planConvWeightGrad(
      { ...geometry, batch: piece.samples, outChannels: piece.channels },
      context.limits,
    );
    const count = piece.channels * rowLength;
    const parts = split.reduce ? split.scratchElements / count : 1;
    const sum = (accumulate: boolean) =>
      planSplitSum(parts, count, { outBase: piece.channel * rowLength, accumulate });
    return { product: split.product, parts, count, first: sum(false), next: sum(true) };
  });
  const list = pieces.flatMap((piece) => {
    const { product, parts, count, first, next } = plan(piece);
    const partials = context.scratch(parts * count);
    const input = { ...piece, channel: 0, channels: inChannels };
    return [
      {
        plan: product,
        operands: [
          pieceWindow(dy, piece, outChannels, sizes.output),
          pieceWindow(x, input, inChannels, sizes.input),
          partials,
        ],
      },
      { plan: piece.sample === 0 ? first : next, operands: [partials, dw] },
    ];
  });
  return { list, withBias: false };
}

/**
 * Lowers per-channel sums of a [outer, channels, inner] tensor (a bias gradient), split by
 * runs of `outer` and then of channels, each piece's sums added to the result in order.
 */
export function lowerChannelSum(
  context: LowerContext,
  block: ChannelSumGeometry,
  x: Operand,
  y: Operand,
): LoweredDispatch[] {
  const { outer, channels, inner } = block;
  const perChannel: SplitOperand[] = [{ label: 'channel sum input', elementsPerUnit: inner }];
  const pieces = splitSamples(outer, channels, [], perChannel, context.limits);
  if (pieces.length === 1) {
    const split = planChannelSum(block, context.limits);
    if (!split.reduce) return [{ plan: split.product, operands: [x, y] }];
    const partials = context.scratch(split.scratchElements);
    return [
      { plan: split.product, operands: [x, partials] },
      { plan: split.reduce, operands: [partials, y] },
    ];
  }
  const plan = cachedPlans((piece) => {
    const geometry = { outer: piece.samples, channels: piece.channels, inner };
    const split = planChannelSum(geometry, context.limits);
    // The product writes [channels, chunks]: the chunks of one channel are adjacent.
    const chunks = split.reduce ? split.scratchElements / piece.channels : 1;
    const layout = { splitStride: 1, elementStride: chunks, outBase: piece.channel };
    const sum = (accumulate: boolean) =>
      planSplitSum(chunks, piece.channels, { ...layout, accumulate });
    return { product: split.product, chunks, first: sum(false), next: sum(true) };
  });
  return pieces.flatMap((piece) => {
    const { product, chunks, first, next } = plan(piece);
    const sums = context.scratch(chunks * piece.channels);
    return [
      { plan: product, operands: [pieceWindow(x, piece, channels, inner), sums] },
      { plan: piece.sample === 0 ? first : next, operands: [sums, y] },
    ];
  });
}
