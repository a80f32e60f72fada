// The literature variants of ResNet, SE-ResNet, DenseNet and ViT with the settings of their
// papers. With the defaults (2D, 3 channels) and numOutputs 1000 they have torchvision's
// parameter counts and state_dict names. With spatialDims 3 they are the same networks with 3D
// layers.
// Importing this module also registers every architecture network of the catalogue in NETWORKS.

import { z } from 'zod';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { AttentionUNetConfig } from './attention-unet.js';
import {
  activationSchema,
  NetworkConfig,
  parseConfig,
  positiveInt,
  withoutName,
} from './config.js';
import { checkInput } from './conv-encoder.js';
import { buildDenseNet, DenseNetConfig } from './densenet.js';
import { registerNetwork, type NetworkFactory } from './registry.js';
import { buildResNet, expandPerAxis, perAxisSchema, ResNetConfig } from './resnet.js';
import { SEResNetConfig } from './seresnet.js';
import { UNetConfig } from './unet.js';
import { buildViT, checkViTSettings, ViTConfig } from './vit.js';

export const variantSchema = z.strictObject({
  /** Outputs of the final linear layer; null returns the features before it. */
  numOutputs: positiveInt.nullable(),
  /** Activation applied to the output (default none). */
  outputAct: activationSchema.nullable().default(null),
  /** 2 for the published 2D network, 3 for the same network with 3D layers (default 2). */
  spatialDims: z
    .union([z.literal(2), z.literal(3)], {
      error: (issue) => `must be 2 or 3, got ${JSON.stringify(issue.input)}`,
    })
    .default(2),
  /** Channels of the input (default 3, RGB as in the papers; 1 for an MRI volume). */
  inChannels: positiveInt.default(3),
  /**
   * Spatial size of the input in voxels, one number or one per axis (default 224, the papers'
   * ImageNet size). ViTs are built for this size; the convolutional networks take any size
   * large enough and use it only as the default input shape of toGraph.
   */
  imageSize: perAxisSchema.default(224),
});
export type VariantFields = z.output<typeof variantSchema>;

type VariantBuild = (builder: GraphBuilder, x: Value, fields: VariantFields) => Value;

interface VariantClass {
  new (input: z.input<typeof variantSchema>): NetworkConfig<VariantFields>;
  fromJSON(json: unknown): NetworkConfig<VariantFields>;
}

function variantInputShape(network: string, fields: VariantFields): number[] {
  const spatial = expandPerAxis(fields.imageSize, fields.spatialDims, network, 'imageSize');
  return [fields.inChannels, ...spatial];
}

/** Makes the config class of one literature variant. */
function variant(network: string, build: VariantBuild, check?: (fields: VariantFields) => void) {
  const VariantConfig = class extends NetworkConfig<VariantFields> {
    readonly name = network;

    constructor(input: z.input<typeof variantSchema>) {
      super(parseConfig(network, variantSchema, input));
      variantInputShape(network, this.fields);
      check?.(this.fields);
    }

    static fromJSON(json: unknown): NetworkConfig<VariantFields> {
      return new VariantConfig(withoutName(network, json) as z.input<typeof variantSchema>);
    }

    inputShape(): number[] {
      return variantInputShape(network, this.fields);
    }

    build(builder: GraphBuilder, input: Value): Value {
      checkInput(network, input, this.fields.spatialDims, this.fields.inChannels);
      return build(builder, input, this.fields);
    }
  };
  return VariantConfig as VariantClass;
}

// ---- ResNet and SE-ResNet (He et al. 2015, table 1; Hu et al. 2018, reduction 16) ----

function resNet(
  network: string,
  blockType: 'basic' | 'bottleneck',
  nResBlocks: number[],
  seReduction: number | null = null,
): VariantClass {
  const nFeatures = blockType === 'basic' ? [64, 128, 256, 512] : [256, 512, 1024, 2048];
  return variant(network, (builder, x, fields) =>
    buildResNet(builder, x, {
      blockType,
      nResBlocks,
      nFeatures,
      initConvSize: new Array<number>(fields.spatialDims).fill(7),
      initConvStride: new Array<number>(fields.spatialDims).fill(2),
      bottleneckReduction: 4,
      seReduction,
      act: 'relu',
      numOutputs: fields.numOutputs,
      outputAct: fields.outputAct,
    }),
  );
}

export const ResNet18Config = resNet('ResNet18', 'basic', [2, 2, 2, 2]);
export const ResNet34Config = resNet('ResNet34', 'basic', [3, 4, 6, 3]);
export const ResNet50Config = resNet('ResNet50', 'bottleneck', [3, 4, 6, 3]);
export const ResNet101Config = resNet('ResNet101', 'bottleneck', [3, 4, 23, 3]);
export const ResNet152Config = resNet('ResNet152', 'bottleneck', [3, 8, 36, 3]);
export const SEResNet50Config = resNet('SEResNet50', 'bottleneck', [3, 4, 6, 3], 16);
export const SEResNet101Config = resNet('SEResNet101', 'bottleneck', [3, 4, 23, 3], 16);
export const SEResNet152Config = resNet('SEResNet152', 'bottleneck', [3, 8, 36, 3], 16);

// ---- DenseNet (Huang et al. 2017, table 1; DenseNet-161 as torchvision defines it) ----

function denseNet(
  network: string,
  nDenseLayers: number[],
  initFeatures: number,
  growthRate: number,
): VariantClass {
  return variant(network, (builder, x, fields) =>
    buildDenseNet(builder, x, {
      nDenseLayers,
      initFeatures,
      growthRate,
      bottleneckFactor: 4,
      act: 'relu',
      dropout: null,
      numOutputs: fields.numOutputs,
      outputAct: fields.outputAct,
    }),
  );
}

export const DenseNet121Config = denseNet('DenseNet121', [6, 12, 24, 16], 64, 32);
export const DenseNet161Config = denseNet('DenseNet161', [6, 12, 36, 24], 96, 48);
export const DenseNet169Config = denseNet('DenseNet169', [6, 12, 32, 32], 64, 32);
export const DenseNet201Config = denseNet('DenseNet201', [6, 12, 48, 32], 64, 32);

// ---- ViT (Dosovitskiy et al. 2021, table 1) ----

function viT(
  network: string,
  patch: number,
  embeddingDim: number,
  numLayers: number,
  numHeads: number,
  mlpDim: number,
): VariantClass {
  const settings = (fields: VariantFields) => ({
    inShape: variantInputShape(network, fields),
    patchSize: new Array<number>(fields.spatialDims).fill(patch),
    numOutputs: fields.numOutputs,
    embeddingDim,
    numLayers,
    numHeads,
    mlpDim,
    posEmbedType: 'learnable' as const,
    outputAct: fields.outputAct,
    dropout: null,
  });
  return variant(
    network,
    (builder, x, fields) => buildViT(builder, x, settings(fields)),
    (fields) => checkViTSettings(network, settings(fields), 'imageSize'),
  );
}

export const ViTB16Config = viT('ViTB16', 16, 768, 12, 12, 3072);
export const ViTB32Config = viT('ViTB32', 32, 768, 12, 12, 3072);
export const ViTL16Config = viT('ViTL16', 16, 1024, 24, 16, 4096);
export const ViTL32Config = viT('ViTL32', 32, 1024, 24, 16, 4096);

// ---- registration ----

/** The literature variants by network name. */
export const LITERATURE_VARIANTS: Readonly<Record<string, VariantClass>> = {
  ResNet18: ResNet18Config,
  ResNet34: ResNet34Config,
  ResNet50: ResNet50Config,
  ResNet101: ResNet101Config,
  ResNet152: ResNet152Config,
  SEResNet50: SEResNet50Config,
  SEResNet101: SEResNet101Config,
  SEResNet152: SEResNet152Config,
  DenseNet121: DenseNet121Config,
  DenseNet161: DenseNet161Config,
  DenseNet169: DenseNet169Config,
  DenseNet201: DenseNet201Config,
  ViTB16: ViTB16Config,
  ViTB32: ViTB32Config,
  ViTL16: ViTL16Config,
  ViTL32: ViTL32Config,
};

/** Every architecture network of the catalogue (common architectures and variants). */
export const ARCHITECTURE_NETWORKS: Readonly<Record<string, NetworkFactory>> = {
  UNet: UNetConfig.fromJSON,
  AttentionUNet: AttentionUNetConfig.fromJSON,
  ResNet: ResNetConfig.fromJSON,
  SEResNet: SEResNetConfig.fromJSON,
  DenseNet: DenseNetConfig.fromJSON,
  ViT: ViTConfig.fromJSON,
  ...Object.fromEntries(
    Object.entries(LITERATURE_VARIANTS).map(([name, config]) => [name, config.fromJSON]),
  ),
};

for (const [name, factory] of Object.entries(ARCHITECTURE_NETWORKS)) registerNetwork(name, factory);
