import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { catalogueFiles, catalogueNetworks, nodeHost } from '../../src/dsl/catalogue.js';
import { compileNetFile } from '../../src/dsl/compile.js';
import { parseNet } from '../../src/dsl/parse.js';
import { canonicalGraph } from '../../src/graph/canonical.js';
import type { Graph, Value } from '../../src/graph/ir.js';
import { networkFromJSON } from '../../src/networks/registry.js';
import { LITERATURE_VARIANTS } from '../../src/networks/variants.js';
import { stateDictOrder } from '../networks/torchvision-fixture.js';

interface Digest {
  parameterCount: number;
  inShape: number[];
  numOutputs: number | null;
  parameters: { sha256: string };
  stateDict: { sha256: string };
}
type FixtureGroup = Record<string, { '2d': Digest; '3d': Digest }>;

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/torchvision-params.json', import.meta.url), 'utf8'),
) as { variants: FixtureGroup; clinicadl: FixtureGroup };

/** SHA-256 of the "name:d0,d1" lines in PyTorch's state_dict order. */
function digest(values: readonly Value[]): string {
  const lines = stateDictOrder(values).map((value) => `${value.name}:${value.shape.join(',')}`);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

function parameterCount(graph: Graph): number {
  return graph.params.reduce((total, p) => total + p.shape.reduce((a, b) => a * b, 1), 0);
}

function compileCatalogue(network: string, set: string[] = []): Graph {
  const file = catalogueNetworks().get(network);
  assert.ok(file, `catalogue network ${network} not found`);
  return compileNetFile(nodeHost, file, { network, set }).graph;
}

describe('dsl catalogue', () => {
  const files = catalogueFiles();

  it('names a configuration setting the network lacks', () => {
    const file = catalogueNetworks().get('ResNet')!;
    const options = { network: 'ResNet', set: ['spatialDims=3'], setLabel: 'network.settings.' };
    assert.throws(
      () => compileNetFile(nodeHost, file, options),
      (error: Error) =>
        error.message.includes('network.settings.spatialDims') &&
        !error.message.includes('--set') &&
        /has no parameter 'spatialDims'; its parameters are [a-zA-Z]+, /.test(error.message),
    );
  });

  it('rejects a convolution encoder without layers', () => {
    const file = catalogueNetworks().get('CNN')!;
    const set = ['inShape=[1, 8, 8, 8]', 'convArgs={channels: []}'];
    assert.throws(
      () => compileNetFile(nodeHost, file, { network: 'CNN', set }),
      /channels is empty; give the output channels of at least one layer/,
    );
  });

  it('contains one file per network family', () => {
    const names = files.map((file) => basename(file));
    const families = [
      'cnn.net',
      'autoencoder.net',
      'resnet.net',
      'densenet.net',
      'vit.net',
      'unet.net',
    ];
    for (const family of families) {
      assert.ok(names.includes(family), `${family} missing from ${names.join(', ')}`);
    }
  });

  for (const file of files) {
    it(`parses ${basename(file)}`, () => {
      const result = parseNet(readFileSync(file, 'utf8'), file);
      assert.deepEqual(result.diagnostics, []);
    });
  }

  describe('elaborates every network with its defaults', () => {
    for (const [network, file] of catalogueNetworks()) {
      it(`${network} (${basename(file)})`, () => {
        const graph = compileNetFile(nodeHost, file, { network }).graph;
        assert.ok(graph.outputs.length >= 1);
        assert.ok(graph.nodes.length > 0);
      });
    }
  });

  describe('matches the torchvision and ClinicaDL fixture', () => {
    for (const [network, settings] of Object.entries(fixture.variants)) {
      for (const dims of ['2d', '3d'] as const) {
        const expected = settings[dims];
        it(`${network} ${dims}`, () => {
          const graph = compileCatalogue(network, [
            `inChannels=${expected.inShape[0]}`,
            `spatialDims=${expected.inShape.length - 1}`,
            `imageSize=${expected.inShape[1]}`,
            `numOutputs=${expected.numOutputs ?? 'none'}`,
          ]);
          assert.equal(parameterCount(graph), expected.parameterCount);
          assert.equal(digest(graph.params), expected.parameters.sha256);
          assert.equal(digest(graph.stateValues()), expected.stateDict.sha256);
        });
      }
    }

    const unets: Record<string, [string, string[]]> = {
      UNet: ['UNet', []],
      AttentionUNet: ['AttentionUNet', []],
      UNetSmallPReLU: ['UNet', ['channels=[4, 8, 16]', 'act="prelu"', 'outChannels=3']],
    };
    for (const [key, [network, set]] of Object.entries(unets)) {
      for (const dims of ['2d', '3d'] as const) {
        const expected = fixture.clinicadl[key]![dims];
        it(`${key} ${dims}`, () => {
          const graph = compileCatalogue(network, [`inShape=[${expected.inShape}]`, ...set]);
          assert.equal(parameterCount(graph), expected.parameterCount);
          assert.equal(digest(graph.params), expected.parameters.sha256);
          assert.equal(digest(graph.stateValues()), expected.stateDict.sha256);
        });
      }
    }
  });

  describe('gives the same IR as the TypeScript classes', () => {
    // [.net network, --set values, TypeScript config JSON, per-sample input shape for toGraph]
    const cases: [string, string[], Record<string, unknown>, number[]?][] = [
      ['MLP', [], { numInputs: 64, numOutputs: 2, hiddenDims: [32, 16] }],
      [
        'MLP',
        [
          'numInputs=10',
          'hiddenDims=[8]',
          'act=["elu", {alpha: 0.5}]',
          'norm="layer"',
          'dropout=0.2',
          'adnOrdering="AND"',
        ],
        {
          numInputs: 10,
          numOutputs: 2,
          hiddenDims: [8],
          act: ['elu', { alpha: 0.5 }],
          norm: 'layer',
          dropout: 0.2,
          adnOrdering: 'AND',
        },
      ],
      [
        'ConvEncoder',
        [],
        { spatialDims: 3, inChannels: 1, channels: [8, 16, 32] },
        [1, 64, 64, 64],
      ],
      [
        'ConvEncoder',
        [
          'inShape=[2, 30, 31]',
          'convArgs={channels: [4, 6, 8], kernelSize: [3, [5, 3], 3], stride: [1, [2, 1], 1], padding: 1, pooling: [["max", {kernelSize: 2}], ["avg", {kernelSize: 3, stride: 1}]], poolingIndices: [-1, 1], norm: ["group", {numGroups: 2}], act: "leakyrelu", outputAct: "tanh"}',
        ],
        {
          spatialDims: 2,
          inChannels: 2,
          channels: [4, 6, 8],
          kernelSize: [3, [5, 3], 3],
          stride: [1, [2, 1], 1],
          padding: 1,
          pooling: [
            ['max', { kernelSize: 2 }],
            ['avg', { kernelSize: 3, stride: 1 }],
          ],
          poolingIndices: [-1, 1],
          norm: ['group', { numGroups: 2 }],
          act: 'leakyrelu',
          outputAct: 'tanh',
        },
        [2, 30, 31],
      ],
      ['ConvDecoder', [], { spatialDims: 3, inChannels: 32, channels: [16, 8, 1] }, [32, 8, 8, 8]],
      [
        'ConvDecoder',
        [
          'inShape=[4, 5, 6]',
          'convArgs={channels: [3, 2], stride: 2, outputPadding: [1, 0], unpooling: ["convtranspose", {kernelSize: 2, stride: 2}], unpoolingIndices: [-1], norm: "batch"}',
        ],
        {
          spatialDims: 2,
          inChannels: 4,
          channels: [3, 2],
          stride: 2,
          outputPadding: [1, 0],
          unpooling: ['convtranspose', { kernelSize: 2, stride: 2 }],
          unpoolingIndices: [-1],
          norm: 'batch',
        },
        [4, 5, 6],
      ],
      [
        'CNN',
        [],
        {
          inShape: [1, 64, 64, 64],
          numOutputs: 2,
          convArgs: { channels: [8, 16, 32], poolingIndices: [0, 1, 2] },
        },
      ],
      [
        'CNN',
        [
          'inShape=[1, 32, 32]',
          'numOutputs=3',
          'convArgs={channels: [4, 8], poolingIndices: [0], act: "relu", norm: "batch"}',
          'mlpArgs={hiddenDims: [16], dropout: 0.1, outputAct: "softmax"}',
        ],
        {
          inShape: [1, 32, 32],
          numOutputs: 3,
          convArgs: { channels: [4, 8], poolingIndices: [0], act: 'relu', norm: 'batch' },
          mlpArgs: { hiddenDims: [16], dropout: 0.1, outputAct: 'softmax' },
        },
      ],
      [
        'Generator',
        [],
        {
          latentSize: 32,
          startShape: [32, 8, 8, 8],
          convArgs: { channels: [16, 8, 1], unpoolingIndices: [0, 1] },
        },
      ],
      [
        'AutoEncoder',
        [],
        {
          inShape: [1, 64, 64, 64],
          latentSize: 32,
          convArgs: { channels: [8, 16, 32], poolingIndices: [0, 1, 2] },
        },
      ],
      [
        'AutoEncoder',
        [
          'inShape=[2, 33, 30]',
          'latentSize=5',
          'convArgs={channels: [4, 6], stride: [[2, 2], 1], padding: [[1, 1], 0], pooling: [["max", {kernelSize: 3, stride: 2, ceilMode: true}], ["avg", {kernelSize: 2}]], poolingIndices: [-1, 0], norm: "batch"}',
          'mlpArgs={hiddenDims: [12, 8], act: "elu"}',
          'unpoolingMode="convtranspose"',
          'outChannels=3',
          'outputAct="sigmoid"',
        ],
        {
          inShape: [2, 33, 30],
          latentSize: 5,
          convArgs: {
            channels: [4, 6],
            stride: [[2, 2], 1],
            padding: [[1, 1], 0],
            pooling: [
              ['max', { kernelSize: 3, stride: 2, ceilMode: true }],
              ['avg', { kernelSize: 2 }],
            ],
            poolingIndices: [-1, 0],
            norm: 'batch',
          },
          mlpArgs: { hiddenDims: [12, 8], act: 'elu' },
          unpoolingMode: 'convtranspose',
          outChannels: 3,
          outputAct: 'sigmoid',
        },
      ],
      [
        'VAE',
        [],
        {
          inShape: [1, 64, 64, 64],
          latentSize: 32,
          convArgs: { channels: [8, 16, 32], poolingIndices: [0, 1, 2] },
        },
      ],
      [
        'VAE',
        [
          'inShape=[1, 20, 20]',
          'latentSize=4',
          'convArgs={channels: [4], pooling: ["adaptiveavg", {outputSize: 5}], poolingIndices: [0]}',
          'unpoolingMode="bilinear"',
          'mlpArgs={hiddenDims: [8], outputAct: "tanh"}',
        ],
        {
          inShape: [1, 20, 20],
          latentSize: 4,
          convArgs: {
            channels: [4],
            pooling: ['adaptiveavg', { outputSize: 5 }],
            poolingIndices: [0],
          },
          unpoolingMode: 'bilinear',
          mlpArgs: { hiddenDims: [8], outputAct: 'tanh' },
        },
      ],
      [
        'VAE',
        [
          'inShape=[1, 20, 20]',
          'latentSize=4',
          'convArgs={channels: [4], pooling: ["adaptivemax", {outputSize: 5}], poolingIndices: [0]}',
          'unpoolingMode="convtranspose"',
        ],
        {
          inShape: [1, 20, 20],
          latentSize: 4,
          convArgs: {
            channels: [4],
            pooling: ['adaptivemax', { outputSize: 5 }],
            poolingIndices: [0],
          },
          unpoolingMode: 'convtranspose',
        },
      ],
      [
        'UNet',
        ['inShape=[2, 20, 24]', 'channels=[4, 8, 16]', 'act="elu"', 'outChannels=3', 'dropout=0.1'],
        {
          spatialDims: 2,
          inChannels: 2,
          outChannels: 3,
          channels: [4, 8, 16],
          act: 'elu',
          dropout: 0.1,
        },
        [2, 20, 24],
      ],
      [
        'AttentionUNet',
        ['inShape=[1, 16, 16, 16]', 'channels=[4, 8]', 'outputAct="sigmoid"'],
        { spatialDims: 3, inChannels: 1, outChannels: 2, channels: [4, 8], outputAct: 'sigmoid' },
        [1, 16, 16, 16],
      ],
    ];

    // Every literature variant in 2D and 3D, at a size small enough to build quickly.
    for (const network of Object.keys(LITERATURE_VARIANTS)) {
      for (const [spatialDims, inChannels] of [
        [2, 3],
        [3, 1],
      ]) {
        const json = { numOutputs: 10, spatialDims, inChannels, imageSize: 32 };
        const set = Object.entries(json).map(([key, value]) => `${key}=${value}`);
        cases.push([network, set, json]);
      }
    }
    cases.push(
      ['ResNet18', ['numOutputs=none', 'imageSize=32'], { numOutputs: null, imageSize: 32 }],
      [
        'SEResNet50',
        ['numOutputs=2', 'imageSize=32', 'outputAct="softmax"'],
        { numOutputs: 2, imageSize: 32, outputAct: 'softmax' },
      ],
      [
        'DenseNet121',
        ['numOutputs=none', 'imageSize=32', 'spatialDims=3', 'inChannels=1'],
        { numOutputs: null, imageSize: 32, spatialDims: 3, inChannels: 1 },
      ],
      [
        'ResNet',
        [
          'inShape=[2, 40, 36]',
          'numOutputs=3',
          'blockType="bottleneck"',
          'nResBlocks=[1, 2]',
          'nFeatures=[16, 32]',
          'initConvSize=5',
          'act="elu"',
        ],
        {
          spatialDims: 2,
          inChannels: 2,
          numOutputs: 3,
          blockType: 'bottleneck',
          nResBlocks: [1, 2],
          nFeatures: [16, 32],
          initConvSize: 5,
          act: 'elu',
        },
        [2, 40, 36],
      ],
      [
        'ResNet',
        ['inShape=[1, 24, 20, 28]', 'nResBlocks=[1, 1]', 'nFeatures=[8, 16]', 'act="prelu"'],
        {
          spatialDims: 3,
          inChannels: 1,
          numOutputs: 2,
          nResBlocks: [1, 1],
          nFeatures: [8, 16],
          act: 'prelu',
        },
        [1, 24, 20, 28],
      ],
      [
        'SEResNet',
        [
          'inShape=[1, 32, 32, 32]',
          'numOutputs=none',
          'nResBlocks=[1, 1]',
          'nFeatures=[16, 32]',
          'seReduction=4',
        ],
        {
          spatialDims: 3,
          inChannels: 1,
          numOutputs: null,
          nResBlocks: [1, 1],
          nFeatures: [16, 32],
          seReduction: 4,
        },
        [1, 32, 32, 32],
      ],
      [
        'SEResNet',
        [
          'inShape=[3, 32, 32]',
          'numOutputs=4',
          'blockType="bottleneck"',
          'nResBlocks=[1, 1]',
          'nFeatures=[32, 64]',
          'initConvSize=[5, 3]',
          'initConvStride=1',
        ],
        {
          spatialDims: 2,
          inChannels: 3,
          numOutputs: 4,
          blockType: 'bottleneck',
          nResBlocks: [1, 1],
          nFeatures: [32, 64],
          initConvSize: [5, 3],
          initConvStride: 1,
        },
        [3, 32, 32],
      ],
      [
        'DenseNet',
        [
          'inShape=[1, 32, 32]',
          'numOutputs=2',
          'nDenseLayers=[2, 3]',
          'initFeatures=8',
          'growthRate=4',
          'dropout=0.2',
        ],
        {
          spatialDims: 2,
          inChannels: 1,
          numOutputs: 2,
          nDenseLayers: [2, 3],
          initFeatures: 8,
          growthRate: 4,
          dropout: 0.2,
        },
        [1, 32, 32],
      ],
      [
        'DenseNet',
        [
          'inShape=[2, 24, 24, 24]',
          'numOutputs=none',
          'nDenseLayers=[2, 2]',
          'initFeatures=8',
          'growthRate=4',
          'bottleneckFactor=2',
          'act="elu"',
        ],
        {
          spatialDims: 3,
          inChannels: 2,
          numOutputs: null,
          nDenseLayers: [2, 2],
          initFeatures: 8,
          growthRate: 4,
          bottleneckFactor: 2,
          act: 'elu',
        },
        [2, 24, 24, 24],
      ],
    );
    const viT = {
      inShape: [1, 32, 32],
      patchSize: 8,
      embeddingDim: 24,
      numLayers: 2,
      numHeads: 2,
      mlpDim: 32,
    };
    const viTCases: Record<string, unknown>[] = [
      { numOutputs: null, dropout: 0.1 },
      { numOutputs: 3 },
      { numOutputs: 3, posEmbedType: 'sincos', outputAct: 'softmax' },
      { numOutputs: null, posEmbedType: 'sincos' },
      { numOutputs: 2, posEmbedType: null, dropout: 0.1 },
      { inShape: [1, 16, 24, 16], patchSize: [8, 8, 4], numOutputs: 2, posEmbedType: 'sincos' },
      { inShape: [2, 16, 16, 16], numOutputs: 2 },
    ];
    for (const overrides of viTCases) {
      const json = { ...viT, ...overrides };
      const set = Object.entries(json).map(
        ([key, value]) => `${key}=${value === null ? 'none' : JSON.stringify(value)}`,
      );
      cases.push(['ViT', set, json]);
    }

    for (const [network, set, json, inputShape] of cases) {
      it(`${network} ${set.join(' ') || 'with defaults'}`, () => {
        const fromNet = canonicalGraph(compileCatalogue(network, set));
        const config = networkFromJSON({ name: network, ...json });
        const fromClass = canonicalGraph(config.toGraph(inputShape ? { inputShape } : {}));
        assert.deepEqual(fromNet, fromClass);
      });
    }
  });
});
