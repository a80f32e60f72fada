// DenseNet (Huang et al., "Densely Connected Convolutional Networks", CVPR 2017) as ClinicaDL
// configures it, with torchvision's module names so torchvision weights load by name:
// features.{conv0, norm0, pool0, denseblock<i>.denselayer<j>.{norm1, conv1, norm2, conv2},
// transition<i>.{norm, conv, pool}, norm5}, classifier. Activation modules are named act0, act1,
// act2 and act (ClinicaDL's renaming of torchvision's relu modules); only prelu gives them params.

import { z } from 'zod';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { getLayer, layer } from '../graph/layers.js';
import {
  activationSchema,
  dropoutSchema,
  NetworkConfig,
  parseConfig,
  positiveInt,
  withoutName,
  type Activation,
} from './config.js';
import { checkInput } from './conv-encoder.js';
import { classifierHead, maybeActivation, spatialDimsSchema } from './resnet.js';

export interface DenseNetSettings {
  nDenseLayers: readonly number[];
  initFeatures: number;
  growthRate: number;
  bottleneckFactor: number;
  act: Activation | null;
  dropout: number | null;
  numOutputs: number | null;
  outputAct: Activation | null;
}

/**
 * Adds a bias-free convolution `name` with size-preserving padding and torchvision's DenseNet
 * init, kaiming_normal_ with the default mode 'fan_in': N(0, 2 / fanIn).
 */
function denseNetConv(
  builder: GraphBuilder,
  x: Value,
  name: string,
  outChannels: number,
  kernelSize: number,
  stride = 1,
) {
  const padding = Math.floor(kernelSize / 2);
  const args = { outChannels, kernelSize, stride, padding, bias: false };
  return layer(builder, 'conv', x, { ...args, weightInit: 'kaimingNormalFanIn' }, name);
}

/** Dense layer: BN, act, 1x1 conv to bottleneckFactor * growthRate, BN, act, 3x3 conv. */
function denseLayer(builder: GraphBuilder, x: Value, settings: DenseNetSettings): Value {
  let y = layer(builder, 'batchNorm', x, {}, 'norm1');
  y = maybeActivation(builder, y, settings.act, 'act1');
  y = denseNetConv(builder, y, 'conv1', settings.bottleneckFactor * settings.growthRate, 1);
  y = layer(builder, 'batchNorm', y, {}, 'norm2');
  y = maybeActivation(builder, y, settings.act, 'act2');
  y = denseNetConv(builder, y, 'conv2', settings.growthRate, 3);
  if (settings.dropout !== null && settings.dropout > 0) {
    y = layer(builder, 'dropout', y, { p: settings.dropout }, 'dropout');
  }
  return y;
}

/** Transition: BN, act, 1x1 conv halving the channels, 2x2 average pooling. */
function transition(builder: GraphBuilder, x: Value, act: Activation | null): Value {
  let y = layer(builder, 'batchNorm', x, {}, 'norm');
  y = maybeActivation(builder, y, act, 'act');
  y = denseNetConv(builder, y, 'conv', Math.floor(x.shape[1] / 2), 1);
  return layer(builder, 'avgPool', y, { kernelSize: 2, stride: 2 }, 'pool');
}

/** Adds a DenseNet in the current scope and returns the logits or the final feature map. */
export function buildDenseNet(builder: GraphBuilder, x: Value, settings: DenseNetSettings): Value {
  const features = builder.scope('features', () => {
    let y = denseNetConv(builder, x, 'conv0', settings.initFeatures, 7, 2);
    y = layer(builder, 'batchNorm', y, {}, 'norm0');
    y = maybeActivation(builder, y, settings.act, 'act0');
    y = layer(builder, 'maxPool', y, { kernelSize: 3, stride: 2, padding: 1 }, 'pool0');
    settings.nDenseLayers.forEach((count, block) => {
      y = builder.scope(`denseblock${block + 1}`, () => {
        // Each dense layer reads the concatenation of the block input and every earlier layer output.
        let stack = y;
        for (let index = 1; index <= count; index++) {
          const grown = builder.scope(`denselayer${index}`, () =>
            denseLayer(builder, stack, settings),
          );
          stack = getLayer('concat').build(builder, [stack, grown], { axis: 1 }, '') as Value;
        }
        return stack;
      });
      if (block < settings.nDenseLayers.length - 1) {
        y = builder.scope(`transition${block + 1}`, () => transition(builder, y, settings.act));
      }
    });
    return layer(builder, 'batchNorm', y, {}, 'norm5');
  });
  // As in ClinicaDL, the last activation belongs to the classifier, so without numOutputs the
  // network returns the output of norm5.
  if (settings.numOutputs === null) return features;
  const activated = maybeActivation(builder, features, settings.act, 'act');
  return classifierHead(builder, activated, 'classifier', settings.numOutputs, settings.outputAct);
}

export const denseNetSchema = z.strictObject({
  /** Number of spatial axes of the input: 1, 2 or 3. */
  spatialDims: spatialDimsSchema,
  /** Channels of the input. */
  inChannels: positiveInt,
  /** Outputs of the final linear layer; null returns the last feature map (after norm5). */
  numOutputs: positiveInt.nullable(),
  /** Dense layers in each dense block; its length is the block count (default [6, 12, 24, 16]). */
  nDenseLayers: z.array(positiveInt).min(1).default([6, 12, 24, 16]),
  /** Channels after the first convolution (default 64). */
  initFeatures: positiveInt.default(64),
  /** Channels each dense layer adds (default 32). */
  growthRate: positiveInt.default(32),
  /** The 1x1 bottleneck convolution outputs bottleneckFactor * growthRate channels (default 4). */
  bottleneckFactor: positiveInt.default(4),
  /** Activation inside the dense layers and transitions (default 'relu'); null for none. */
  act: activationSchema.nullable().default('relu'),
  /** Activation applied to the network output (default none). */
  outputAct: activationSchema.nullable().default(null),
  /** Dropout probability after each dense layer (default none). */
  dropout: dropoutSchema,
});
export type DenseNetFields = z.output<typeof denseNetSchema>;

/** Config of ClinicaDL's DenseNet; toGraph needs inputShape [inChannels, ...spatial]. */
export class DenseNetConfig extends NetworkConfig<DenseNetFields> {
  readonly name = 'DenseNet';

  constructor(input: z.input<typeof denseNetSchema>) {
    super(parseConfig('DenseNet', denseNetSchema, input));
  }

  static fromJSON(json: unknown): DenseNetConfig {
    return new DenseNetConfig(withoutName('DenseNet', json) as z.input<typeof denseNetSchema>);
  }

  inputShape(): undefined {
    return undefined;
  }

  build(builder: GraphBuilder, input: Value): Value {
    checkInput(this.name, input, this.fields.spatialDims, this.fields.inChannels);
    return buildDenseNet(builder, input, this.fields);
  }
}
