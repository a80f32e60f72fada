import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { UserError } from '../../src/errors.js';
import type { InitSpec } from '../../src/graph/init-spec.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph, Value } from '../../src/graph/ir.js';
import { getLayer, layer, type LayerArgs } from '../../src/graph/layers.js';
import { sincosPositionTable } from '../../src/graph/layers/sincos.js';
import { summarise } from '../../src/graph/summary.js';
import { DenseNetConfig } from '../../src/networks/densenet.js';
import { networkFromJSON } from '../../src/networks/registry.js';
import { ResNetConfig } from '../../src/networks/resnet.js';
import { SEResNetConfig } from '../../src/networks/seresnet.js';
import { LITERATURE_VARIANTS } from '../../src/networks/variants.js';
import { ViTConfig } from '../../src/networks/vit.js';

const resNet50 = {
  blockType: 'bottleneck' as const,
  nResBlocks: [3, 4, 6, 3],
  nFeatures: [256, 512, 1024, 2048],
};

describe('ResNet, SEResNet, DenseNet and ViT configs', () => {
  const roundTrips: Record<string, unknown>[] = [
    { name: 'ResNet', spatialDims: 3, inChannels: 1, numOutputs: 2, initConvSize: [7, 5, 3] },
    { name: 'ResNet', spatialDims: 2, inChannels: 1, numOutputs: null, ...resNet50 },
    { name: 'SEResNet', spatialDims: 2, inChannels: 1, numOutputs: 3, seReduction: 8 },
    { name: 'DenseNet', spatialDims: 3, inChannels: 1, numOutputs: 2, nDenseLayers: [2, 2] },
    { name: 'ViT', inShape: [1, 32, 32, 32], patchSize: [8, 8, 4], numOutputs: 2 },
    { name: 'ViT', inShape: [1, 32, 32], patchSize: 8, numOutputs: null, posEmbedType: 'sincos' },
  ];
  roundTrips.forEach((json, index) => {
    it(`${json.name} JSON round trip ${index}`, () => {
      const config = networkFromJSON(json);
      const again = networkFromJSON(JSON.parse(JSON.stringify(config)));
      assert.deepEqual(again.toJSON(), config.toJSON());
      for (const [key, value] of Object.entries(json)) {
        assert.deepEqual((config.toJSON() as Record<string, unknown>)[key], value, key);
      }
    });
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    [
      'ResNet stage lengths',
      { name: 'ResNet', spatialDims: 2, inChannels: 1, numOutputs: 2, nFeatures: [64, 128] },
      /nFeatures \[64, 128\] and nResBlocks \[2, 2, 2, 2\]/,
    ],
    [
      'ResNet bottleneck divisibility',
      {
        name: 'ResNet',
        spatialDims: 2,
        inChannels: 1,
        numOutputs: 2,
        ...resNet50,
        nFeatures: [6, 8, 8, 8],
      },
      /field 'nFeatures': 6 is not divisible by bottleneckReduction \(4\)/,
    ],
    [
      'ResNet spatialDims 4',
      { name: 'ResNet', spatialDims: 4, inChannels: 1, numOutputs: 2 },
      /field 'spatialDims'/,
    ],
    [
      'ResNet initConvSize axes',
      { name: 'ResNet', spatialDims: 3, inChannels: 1, numOutputs: 2, initConvSize: [7, 7] },
      /field 'initConvSize': \[7, 7\] has 2 entries/,
    ],
    [
      'SEResNet reduction above features',
      {
        name: 'SEResNet',
        spatialDims: 2,
        inChannels: 1,
        numOutputs: 2,
        nFeatures: [8, 16, 32, 64],
      },
      /field 'nFeatures': 8 is below seReduction \(16\)/,
    ],
    [
      'DenseNet spatialDims 0',
      { name: 'DenseNet', spatialDims: 0, inChannels: 1, numOutputs: 2 },
      /field 'spatialDims'/,
    ],
    [
      'DenseNet empty blocks',
      { name: 'DenseNet', spatialDims: 2, inChannels: 1, numOutputs: 2, nDenseLayers: [] },
      /field 'nDenseLayers'/,
    ],
    [
      'ViT patch not dividing',
      { name: 'ViT', inShape: [1, 30, 32], patchSize: 8, numOutputs: 2 },
      /field 'inShape': spatial size \[30, 32\] must be divisible by the patch size \[8, 8\]/,
    ],
    [
      'ViT heads not dividing',
      { name: 'ViT', inShape: [1, 32, 32], patchSize: 8, numOutputs: 2, numHeads: 5 },
      /field 'numHeads': 5 must divide embeddingDim 768/,
    ],
    [
      'ViT sincos in 1D',
      { name: 'ViT', inShape: [1, 64], patchSize: 8, numOutputs: 2, posEmbedType: 'sincos' },
      /field 'posEmbedType'/,
    ],
    [
      'ViT sincos embedding size',
      {
        name: 'ViT',
        inShape: [1, 8, 8, 8],
        patchSize: 4,
        numOutputs: 2,
        embeddingDim: 64,
        numHeads: 4,
        posEmbedType: 'sincos',
      },
      /divisible by 4 \(2D\) or 6 \(3D\)/,
    ],
    [
      'ViT inShape without spatial axes',
      { name: 'ViT', inShape: [3], patchSize: 8, numOutputs: 2 },
      /field 'inShape'/,
    ],
  ];
  for (const [label, json, message] of invalid) {
    it(`rejects ${label}`, () => {
      assert.throws(
        () => networkFromJSON(json),
        (error: Error) => error instanceof UserError && message.test(error.message),
      );
    });
  }
});

describe('ResNet, SEResNet, DenseNet and ViT graphs', () => {
  it('ResNet feature map without numOutputs', () => {
    const config = new ResNetConfig({ spatialDims: 2, inChannels: 1, numOutputs: null });
    const graph = config.toGraph({ inputShape: [1, 224, 224] });
    // 224 / 2 (stem) / 2 (max pool) / 2 / 2 / 2 (stages 2 to 4) = 7.
    assert.deepEqual(graph.output('output')?.shape, [1, 512, 7, 7]);
  });

  it('ResNet 3D on an odd-sized volume', () => {
    const config = new ResNetConfig({ spatialDims: 3, inChannels: 1, numOutputs: 2 });
    const graph = config.toGraph({ batchSize: 2, inputShape: [1, 37, 45, 29] });
    assert.deepEqual(graph.output('output')?.shape, [2, 2]);
  });

  it('SEResNet adds the excitation parameters', () => {
    const fields = { spatialDims: 2, inChannels: 3, numOutputs: 10, ...resNet50 };
    const plain = summarise(new ResNetConfig(fields).toGraph({ inputShape: [3, 32, 32] }));
    const se = summarise(new SEResNetConfig(fields).toGraph({ inputShape: [3, 32, 32] }));
    // Each block adds two biased linear layers C -> C / 16 -> C, with C its output channels.
    let expected = 0;
    resNet50.nResBlocks.forEach((blocks, stage) => {
      const channels = resNet50.nFeatures[stage];
      const reduced = channels / 16;
      expected += blocks * (2 * channels * reduced + reduced + channels);
    });
    assert.equal(se.totalParams - plain.totalParams, expected);
  });

  it('prelu activations add one parameter each', () => {
    const base = {
      spatialDims: 2,
      inChannels: 1,
      numOutputs: 2,
      nResBlocks: [1, 1],
      nFeatures: [8, 16],
    };
    const relu = summarise(new ResNetConfig(base).toGraph({ inputShape: [1, 32, 32] }));
    const prelu = summarise(
      new ResNetConfig({ ...base, act: 'prelu' }).toGraph({ inputShape: [1, 32, 32] }),
    );
    // act0, then act1 and act2 in each of the two basic blocks.
    assert.equal(prelu.totalParams - relu.totalParams, 5);
  });

  it('DenseNet channel count', () => {
    const config = new DenseNetConfig({
      spatialDims: 2,
      inChannels: 1,
      numOutputs: null,
      nDenseLayers: [2, 3],
      initFeatures: 16,
      growthRate: 4,
    });
    const graph = config.toGraph({ inputShape: [1, 32, 32] });
    // (16 + 2 * 4) / 2 after the transition, then + 3 * 4; sizes 32 / 4 / 2.
    assert.deepEqual(graph.output('output')?.shape, [1, 24, 4, 4]);
  });

  it('ViT without numOutputs returns the tokens', () => {
    const config = new ViTConfig({
      inShape: [2, 16, 24],
      patchSize: [4, 8],
      numOutputs: null,
      embeddingDim: 32,
      numHeads: 4,
      numLayers: 2,
      mlpDim: 64,
    });
    const graph = config.toGraph({ batchSize: 3 });
    assert.deepEqual(graph.output('output')?.shape, [3, 12, 32]);
    assert.equal(
      graph.params.some((param) => param.name === 'class_token'),
      false,
    );
  });

  it('ViT sincos embedding is not a parameter', () => {
    const fields = {
      inShape: [1, 16, 16],
      patchSize: 4,
      numOutputs: 2,
      embeddingDim: 32,
      numHeads: 4,
      numLayers: 1,
      mlpDim: 64,
    };
    const learned = new ViTConfig(fields).toGraph();
    const fixed = new ViTConfig({ ...fields, posEmbedType: 'sincos' }).toGraph();
    const none = new ViTConfig({ ...fields, posEmbedType: null }).toGraph();
    const count = (graph: typeof learned) => summarise(graph).totalParams;
    assert.equal(count(learned) - count(fixed), 17 * 32);
    assert.equal(count(fixed), count(none));
    assert.deepEqual(fixed.constants[0].shape, [1, 17, 32]);
  });

  it('ViT rejects another input size', () => {
    const config = new ViTConfig({ inShape: [1, 16, 16], patchSize: 4, numOutputs: 2 });
    assert.throws(() => config.toGraph({ inputShape: [1, 32, 32] }), /inShape \[1, 16, 16\]/);
  });
});

describe('sincosPositionTable', () => {
  // MONAI's formula: blocks sin(w), cos(w), sin(h), cos(h)(, sin(d), cos(d)), each of
  // dim / (2 * axes) frequencies 1 / 10000^(k / n).
  const cases: [number[], number][] = [
    [[2, 3], 8],
    [[3, 2, 2], 12],
  ];
  for (const [grid, dim] of cases) {
    it(`grid [${grid.join(', ')}] with dim ${dim}`, () => {
      const table = sincosPositionTable(grid, dim);
      const tokens = grid.reduce((a, b) => a * b, 1);
      assert.equal(table.length, tokens * dim);
      const n = dim / (2 * grid.length);
      const last = tokens - 1;
      const index = grid.map((size) => size - 1);
      const order = grid.length === 2 ? [1, 0] : [1, 0, 2];
      order.forEach((axis, block) => {
        for (let k = 0; k < n; k++) {
          const angle = index[axis] / 10000 ** (k / n);
          const sin = table[last * dim + 2 * block * n + k];
          const cos = table[last * dim + (2 * block + 1) * n + k];
          assert.ok(Math.abs(sin - Math.sin(angle)) < 1e-6, `sin block ${block} k ${k}`);
          assert.ok(Math.abs(cos - Math.cos(angle)) < 1e-6, `cos block ${block} k ${k}`);
        }
      });
      // Token 0 sits at the origin: sin 0 and cos 1 everywhere.
      for (let k = 0; k < dim; k++) {
        const expected = Math.floor(k / n) % 2 === 0 ? 0 : 1;
        assert.equal(table[k], expected, `token 0 element ${k}`);
      }
    });
  }
});

describe('ViT layer arguments', () => {
  it('split returns only the listed parts', () => {
    const builder = new GraphBuilder();
    const x = builder.input('x', [2, 5, 4]);
    const parts = getLayer('split').build(builder, [x], { sizes: [1, 4], parts: [1, 0] }, '');
    assert.deepEqual(
      (parts as Value[]).map((part) => part.shape),
      [
        [2, 4, 4],
        [2, 1, 4],
      ],
    );
    assert.equal(builder.graph.nodes.length, 2);
    assert.deepEqual(builder.graph.nodes[0].attrs, {
      begin: [0, 1, 0],
      end: [2, 5, 4],
      step: [1, 1, 1],
    });
  });

  it('sincos table with a class token', () => {
    const builder = new GraphBuilder();
    const x = builder.input('x', [2, 7, 8]);
    const args = { kind: 'sincos', grid: [2, 3] };
    const y = layer(builder, 'positionalEmbedding', x, args, 'pos_embedding');
    assert.deepEqual(y.shape, [2, 7, 8]);
    assert.equal(builder.graph.params.length, 0);
    const [constant] = builder.graph.constants;
    assert.deepEqual(constant.shape, [1, 7, 8]);
    const data = constant.data as Float32Array;
    assert.deepEqual(Array.from(data.subarray(0, 8)), new Array<number>(8).fill(0));
    assert.deepEqual(data.subarray(8), sincosPositionTable([2, 3], 8));
  });

  const bad: [string, number[], LayerArgs, string][] = [
    ['split', [2, 5, 4], { sizes: [1, 4], parts: [2] }, 'part 2 does not exist'],
    ['positionalEmbedding', [2, 6, 8], { kind: 'sincos' }, 'needs the argument grid'],
    ['positionalEmbedding', [2, 6, 8], { kind: 'sincos', grid: [2, 4] }, 'at most L = 6'],
    ['positionalEmbedding', [2, 6, 6], { kind: 'sincos', grid: [2, 3] }, 'divisible by 4'],
    ['positionalEmbedding', [2, 6, 8], { kind: 'sincos', grid: [6] }, 'grid of 2 or 3 axes'],
    ['positionalEmbedding', [2, 6, 8], { kind: 'fixed' }, "one of 'learnable', 'sincos'"],
  ];
  for (const [type, shape, args, fragment] of bad) {
    it(`${type} rejects ${JSON.stringify(args)}`, () => {
      const builder = new GraphBuilder();
      assert.throws(
        () => layer(builder, type, builder.input('x', shape), args),
        (error: Error) => error instanceof UserError && error.message.includes(fragment),
      );
    });
  }
});

describe('torchvision initialisation', () => {
  const initOf = (graph: Graph, name: string) =>
    graph.stateValues().find((value) => value.name === name)?.init;
  const resNet = new LITERATURE_VARIANTS.ResNet18({ numOutputs: 10, imageSize: 32 }).toGraph();
  const denseNet = new LITERATURE_VARIANTS.DenseNet121({ numOutputs: 10, imageSize: 32 }).toGraph();
  const viT = new LITERATURE_VARIANTS.ViTB32({ numOutputs: 10, imageSize: 32 }).toGraph();
  const cases: [string, Graph, string, InitSpec][] = [
    // kaiming_normal_(mode='fan_out'): std sqrt(2 / (outChannels * kernel volume)).
    [
      'ResNet stem',
      resNet,
      'conv1.weight',
      { kind: 'normal', mean: 0, std: Math.sqrt(2 / (64 * 49)) },
    ],
    [
      'ResNet block',
      resNet,
      'layer2.0.conv2.weight',
      { kind: 'normal', mean: 0, std: Math.sqrt(2 / (128 * 9)) },
    ],
    ['ResNet batch norm', resNet, 'layer1.0.bn1.weight', { kind: 'constant', value: 1 }],
    ['ResNet fc bias', resNet, 'fc.bias', { kind: 'constant', value: 0 }],
    // kaiming_normal_ with the default fan_in: std sqrt(2 / (inChannels * kernel volume)).
    [
      'DenseNet stem',
      denseNet,
      'features.conv0.weight',
      { kind: 'normal', mean: 0, std: Math.sqrt(2 / (3 * 49)) },
    ],
    ['DenseNet classifier bias', denseNet, 'classifier.bias', { kind: 'constant', value: 0 }],
    [
      'ViT patch projection',
      viT,
      'conv_proj.weight',
      { kind: 'truncatedNormal', mean: 0, std: Math.sqrt(1 / (3 * 32 * 32)), low: -2, high: 2 },
    ],
    [
      'ViT MLP weight',
      viT,
      'encoder.layers.encoder_layer_0.mlp.0.weight',
      { kind: 'xavierUniform', gain: 1, fanIn: 768, fanOut: 3072 },
    ],
    [
      'ViT MLP bias',
      viT,
      'encoder.layers.encoder_layer_3.mlp.3.bias',
      { kind: 'normal', mean: 0, std: 1e-6 },
    ],
    ['ViT head', viT, 'heads.head.weight', { kind: 'constant', value: 0 }],
    ['ViT class token', viT, 'class_token', { kind: 'constant', value: 0 }],
    [
      'ViT position embedding',
      viT,
      'encoder.pos_embedding',
      { kind: 'normal', mean: 0, std: 0.02 },
    ],
  ];
  for (const [label, graph, name, expected] of cases) {
    it(label, () => {
      assert.deepEqual(initOf(graph, name), expected);
    });
  }
});
