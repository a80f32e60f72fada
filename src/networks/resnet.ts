// ResNet (He et al., "Deep Residual Learning for Image Recognition", 2015) as ClinicaDL configures
// it, with torchvision's module names so torchvision weights load by name: conv1, bn1, maxpool,
// layer<i>.<j> (conv1, bn1, conv2, bn2[, conv3, bn3][, se_layer], downsample.0/1), fc.
// Activation modules are act0 and act1..act3 as in ClinicaDL; they only hold params for prelu.
// The stride of a bottleneck block sits on its 3x3 convolution (torchvision's "ResNet v1.5").

import { z } from 'zod';
import { UserError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { layer } from '../graph/layers.js';
import { applyActivation } from './blocks.js';
import {
  activationSchema,
  NetworkConfig,
  parseConfig,
  positiveInt,
  withoutName,
  type Activation,
} from './config.js';
import { checkInput } from './conv-encoder.js';

// ---- shared helpers (also used by SEResNet, DenseNet and the literature variants) ----

/** Number of spatial axes: 1, 2 or 3. */
export const spatialDimsSchema = z.number().int().min(1).max(3);

/** An integer for every spatial axis, or one integer per axis. */
export const perAxisSchema = z.union([positiveInt, z.array(positiveInt).min(1)]);
export type PerAxis = z.infer<typeof perAxisSchema>;

/** Expands a PerAxis value to `spatialDims` entries; the error names the network and field. */
export function expandPerAxis(
  value: PerAxis,
  spatialDims: number,
  network: string,
  field: string,
): number[] {
  if (typeof value === 'number') return new Array<number>(spatialDims).fill(value);
  if (value.length !== spatialDims) {
    throw new UserError(
      `${network} config field '${field}': [${value.join(', ')}] has ${value.length} entries ` +
        `but the input has ${spatialDims} spatial axes; give one number or ${spatialDims} numbers`,
    );
  }
  return [...value];
}

/** Adds activation module `name`, or nothing when `act` is null. */
export function maybeActivation(
  builder: GraphBuilder,
  x: Value,
  act: Activation | null,
  name: string,
): Value {
  return act === null ? x : applyActivation(builder, x, act, name);
}

/**
 * Adds global average pooling, flatten, and the final linear module `name` with the output
 * activation. The bias starts at zero, as ClinicaDL's ResNet and torchvision's DenseNet set it.
 */
export function classifierHead(
  builder: GraphBuilder,
  x: Value,
  name: string,
  numOutputs: number,
  outputAct: Activation | null,
): Value {
  const pooled = layer(builder, 'adaptiveAvgPool', x, { outputSize: 1 }, 'avgpool');
  const flat = layer(builder, 'flatten', pooled, {}, '');
  const logits = layer(
    builder,
    'linear',
    flat,
    { outFeatures: numOutputs, biasInit: 'zeros' },
    name,
  );
  return maybeActivation(builder, logits, outputAct, 'output_act');
}

// ---- the network ----

export interface ResNetSettings {
  blockType: 'basic' | 'bottleneck';
  nResBlocks: readonly number[];
  nFeatures: readonly number[];
  initConvSize: readonly number[];
  initConvStride: readonly number[];
  bottleneckReduction: number;
  /** Squeeze-and-excitation reduction; null for a plain ResNet. */
  seReduction: number | null;
  act: Activation | null;
  numOutputs: number | null;
  outputAct: Activation | null;
}

function batchNorm(builder: GraphBuilder, x: Value, name: string): Value {
  return layer(builder, 'batchNorm', x, {}, name);
}

/**
 * Adds a bias-free convolution `name` with size-preserving padding and torchvision's ResNet
 * init, kaiming_normal_(mode='fan_out'): N(0, 2 / fanOut).
 */
function resNetConv(
  builder: GraphBuilder,
  x: Value,
  name: string,
  outChannels: number,
  kernelSize: readonly number[],
  stride: readonly number[],
): Value {
  const padding = kernelSize.map((size) => Math.floor(size / 2));
  const args = { outChannels, kernelSize, stride, padding, bias: false };
  return layer(builder, 'conv', x, { ...args, weightInit: 'kaimingNormalFanOut' }, name);
}

/** One residual block in the current scope; returns its output. */
function residualBlock(
  builder: GraphBuilder,
  x: Value,
  planes: number,
  stride: number,
  settings: ResNetSettings,
): Value {
  const dims = x.shape.length - 2;
  const axes = (size: number) => new Array<number>(dims).fill(size);
  const bottleneck = settings.blockType === 'bottleneck';
  const expansion = bottleneck ? settings.bottleneckReduction : 1;
  const conv = (input: Value, name: string, out: number, kernel: number, step: number) =>
    resNetConv(builder, input, name, out, axes(kernel), axes(step));

  let y: Value;
  if (bottleneck) {
    y = batchNorm(builder, conv(x, 'conv1', planes, 1, 1), 'bn1');
    y = maybeActivation(builder, y, settings.act, 'act1');
    y = batchNorm(builder, conv(y, 'conv2', planes, 3, stride), 'bn2');
    y = maybeActivation(builder, y, settings.act, 'act2');
    y = batchNorm(builder, conv(y, 'conv3', planes * expansion, 1, 1), 'bn3');
  } else {
    y = batchNorm(builder, conv(x, 'conv1', planes, 3, stride), 'bn1');
    y = maybeActivation(builder, y, settings.act, 'act1');
    y = batchNorm(builder, conv(y, 'conv2', planes, 3, 1), 'bn2');
  }
  if (settings.seReduction !== null) {
    y = layer(builder, 'squeezeExcitation', y, { reduction: settings.seReduction }, 'se_layer');
  }

  let identity = x;
  if (stride !== 1 || x.shape[1] !== planes * expansion) {
    identity = builder.scope('downsample', () =>
      batchNorm(builder, conv(x, '0', planes * expansion, 1, stride), '1'),
    );
  }
  const sum = builder.op('add', [y, identity], {});
  return maybeActivation(builder, sum, settings.act, bottleneck ? 'act3' : 'act2');
}

/** Adds a ResNet (or SE-ResNet) in the current scope and returns the logits or feature map. */
export function buildResNet(builder: GraphBuilder, x: Value, settings: ResNetSettings): Value {
  const planes = settings.nFeatures.map((features) =>
    settings.blockType === 'bottleneck' ? features / settings.bottleneckReduction : features,
  );
  let y = resNetConv(
    builder,
    x,
    'conv1',
    planes[0],
    settings.initConvSize,
    settings.initConvStride,
  );
  y = batchNorm(builder, y, 'bn1');
  y = maybeActivation(builder, y, settings.act, 'act0');
  y = layer(builder, 'maxPool', y, { kernelSize: 3, stride: 2, padding: 1 }, 'maxpool');

  settings.nResBlocks.forEach((blocks, stage) => {
    builder.scope(`layer${stage + 1}`, () => {
      for (let index = 0; index < blocks; index++) {
        const stride = stage > 0 && index === 0 ? 2 : 1;
        y = builder.scope(`${index}`, () =>
          residualBlock(builder, y, planes[stage], stride, settings),
        );
      }
    });
  });
  if (settings.numOutputs === null) return y;
  return classifierHead(builder, y, 'fc', settings.numOutputs, settings.outputAct);
}

// ---- config ----

export const resNetShape = {
  /** Number of spatial axes of the input: 1, 2 or 3. */
  spatialDims: spatialDimsSchema,
  /** Channels of the input. */
  inChannels: positiveInt,
  /** Outputs of the final linear layer; null returns the last feature map. */
  numOutputs: positiveInt.nullable(),
  /** Residual block: 'basic' (two 3x3 convolutions) or 'bottleneck' (default 'basic'). */
  blockType: z.enum(['basic', 'bottleneck']).default('basic'),
  /** Residual blocks in each stage; its length is the number of stages (default [2, 2, 2, 2]). */
  nResBlocks: z.array(positiveInt).min(1).default([2, 2, 2, 2]),
  /** Output channels of each stage (default [64, 128, 256, 512]). */
  nFeatures: z.array(positiveInt).min(1).default([64, 128, 256, 512]),
  /** Kernel size of the first convolution (default 7). */
  initConvSize: perAxisSchema.default(7),
  /** Stride of the first convolution (default 2). */
  initConvStride: perAxisSchema.default(2),
  /** Channel reduction inside a bottleneck block (default 4). */
  bottleneckReduction: positiveInt.default(4),
  /** Activation after each convolution block (default 'relu'); null for none. */
  act: activationSchema.nullable().default('relu'),
  /** Activation applied to the network output (default none). */
  outputAct: activationSchema.nullable().default(null),
};

export const resNetSchema = z.strictObject(resNetShape);
export type ResNetFields = z.output<typeof resNetSchema>;

/** Checks the cross-field rules of a ResNet config and returns its build settings. */
export function resNetSettings(
  network: string,
  fields: ResNetFields,
  seReduction: number | null,
): ResNetSettings {
  const { nResBlocks, nFeatures, bottleneckReduction } = fields;
  if (nResBlocks.length !== nFeatures.length) {
    throw new UserError(
      `${network} config: nFeatures [${nFeatures.join(', ')}] and nResBlocks ` +
        `[${nResBlocks.join(', ')}] must have the same length (one entry per stage)`,
    );
  }
  if (fields.blockType === 'bottleneck') {
    const bad = nFeatures.find((features) => features % bottleneckReduction !== 0);
    if (bad !== undefined) {
      throw new UserError(
        `${network} config field 'nFeatures': ${bad} is not divisible by bottleneckReduction ` +
          `(${bottleneckReduction}); every entry must be`,
      );
    }
  }
  return {
    ...fields,
    initConvSize: expandPerAxis(fields.initConvSize, fields.spatialDims, network, 'initConvSize'),
    initConvStride: expandPerAxis(
      fields.initConvStride,
      fields.spatialDims,
      network,
      'initConvStride',
    ),
    seReduction,
  };
}

/** Config of ClinicaDL's ResNet; toGraph needs inputShape [inChannels, ...spatial]. */
export class ResNetConfig extends NetworkConfig<ResNetFields> {
  readonly name = 'ResNet';

  constructor(input: z.input<typeof resNetSchema>) {
    super(parseConfig('ResNet', resNetSchema, input));
    resNetSettings(this.name, this.fields, null);
  }

  static fromJSON(json: unknown): ResNetConfig {
    return new ResNetConfig(withoutName('ResNet', json) as z.input<typeof resNetSchema>);
  }

  inputShape(): undefined {
    return undefined;
  }

  build(builder: GraphBuilder, input: Value): Value {
    checkInput(this.name, input, this.fields.spatialDims, this.fields.inChannels);
    return buildResNet(builder, input, resNetSettings(this.name, this.fields, null));
  }
}
