import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { UserError } from '../../src/errors.js';
import { canonicalJSON } from '../../src/graph/canonical.js';
import { AutoEncoderConfig, VAEConfig } from '../../src/networks/autoencoder.js';
import { CNNConfig } from '../../src/networks/cnn.js';
import { ConvDecoderConfig } from '../../src/networks/conv-decoder.js';
import { ConvEncoderConfig } from '../../src/networks/conv-encoder.js';
import { GeneratorConfig } from '../../src/networks/generator.js';
import { MLPConfig } from '../../src/networks/mlp.js';
import { networkFromJSON, NETWORKS } from '../../src/networks/registry.js';

const CONFIGS = [
  () => new MLPConfig({ numInputs: 6, numOutputs: 2, hiddenDims: [4], act: ['elu', { alpha: 2 }] }),
  () => new ConvEncoderConfig({ spatialDims: 2, inChannels: 1, channels: [2, 3], stride: [1, 2] }),
  () =>
    new ConvDecoderConfig({ spatialDims: 1, inChannels: 3, channels: [2], unpoolingIndices: [0] }),
  () =>
    new CNNConfig({
      inShape: [1, 12, 12],
      numOutputs: 3,
      convArgs: { channels: [2], poolingIndices: [0] },
    }),
  () => new GeneratorConfig({ latentSize: 4, startShape: [2, 3, 3], convArgs: { channels: [1] } }),
  () => new AutoEncoderConfig({ inShape: [1, 8, 8], latentSize: 3, convArgs: { channels: [2] } }),
  () => new VAEConfig({ inShape: [1, 8, 8], latentSize: 3, convArgs: { channels: [2] } }),
];

describe('network configs', () => {
  for (const make of CONFIGS) {
    const config = make();

    it(`${config.name} JSON round trip`, () => {
      const json = JSON.parse(JSON.stringify(config.toJSON())) as { name: string };
      assert.equal(json.name, config.name);
      const again = networkFromJSON(json);
      assert.equal(again.name, config.name);
      assert.deepEqual(again.toJSON(), config.toJSON());
    });

    it(`${config.name} rebuilt graph is equal`, () => {
      const inputShape =
        config.inputShape() ?? (config.name === 'ConvEncoder' ? [1, 9, 9] : [3, 5]);
      const json = JSON.parse(JSON.stringify(config.toJSON()));
      assert.equal(
        canonicalJSON(networkFromJSON(json).toGraph({ batchSize: 2, inputShape })),
        canonicalJSON(config.toGraph({ batchSize: 2, inputShape })),
      );
    });
  }

  it('fills ClinicaDL defaults', () => {
    const json = new CNNConfig({
      inShape: [1, 8, 8],
      numOutputs: 2,
      convArgs: { channels: [4] },
    }).toJSON();
    assert.equal(json.convArgs.kernelSize, 3);
    assert.equal(json.convArgs.act, 'prelu');
    assert.equal(json.convArgs.norm, 'instance');
    assert.deepEqual(json.convArgs.pooling, ['max', { kernelSize: 2 }]);
    assert.equal(json.convArgs.poolingIndices, null);
    assert.equal(json.convArgs.adnOrdering, 'NDA');
    assert.equal(json.mlpArgs, null);
  });

  it('pooling null turns pooling off', () => {
    const graph = new CNNConfig({
      inShape: [1, 8, 8],
      numOutputs: 2,
      convArgs: { channels: [2], pooling: null, poolingIndices: [0] },
    }).toGraph();
    assert.deepEqual(
      graph.nodes.filter((node) => node.op === 'maxPool'),
      [],
    );
  });

  it('unpooling null turns unpooling off', () => {
    const graph = new ConvDecoderConfig({
      spatialDims: 1,
      inChannels: 2,
      channels: [2],
      unpooling: null,
      unpoolingIndices: [0],
    }).toGraph({ inputShape: [2, 5] });
    assert.deepEqual(
      graph.nodes.filter((node) => node.op === 'upsample'),
      [],
    );
  });

  it('registry lists the builder networks', () => {
    for (const name of [
      'MLP',
      'ConvEncoder',
      'ConvDecoder',
      'CNN',
      'Generator',
      'AutoEncoder',
      'VAE',
    ]) {
      assert.ok(NETWORKS.has(name), name);
    }
  });
});

/** Each case: a JSON config and a fragment its error message must contain. */
const BAD_CONFIGS: [string, Record<string, unknown>, string][] = [
  [
    'misspelled norm',
    { name: 'MLP', numInputs: 3, numOutputs: 1, hiddenDims: [2], norm: 'bacth' },
    "Did you mean 'batch'?",
  ],
  ['unknown network', { name: 'CNNN' }, "Did you mean 'CNN'?"],
  ['missing name', { inShape: [1, 4] }, 'needs a "name"'],
  [
    'misspelled field',
    { name: 'CNN', inShape: [1, 8], numOutputs: 2, convArgs: { chanels: [2] } },
    "unknown field 'chanels'. Did you mean 'channels'?",
  ],
  [
    'missing channels',
    { name: 'CNN', inShape: [1, 8], numOutputs: 2, convArgs: {} },
    "field 'convArgs.channels'",
  ],
  [
    'negative numOutputs',
    { name: 'CNN', inShape: [1, 8], numOutputs: -1, convArgs: { channels: [2] } },
    "field 'numOutputs'",
  ],
  [
    'unknown activation',
    { name: 'MLP', numInputs: 3, numOutputs: 1, hiddenDims: [2], act: 'relu7' },
    "field 'act': must be one of 'celu'",
  ],
  [
    'repeated ADN letter',
    { name: 'MLP', numInputs: 3, numOutputs: 1, hiddenDims: [2], adnOrdering: 'NAN' },
    'must not repeat a letter',
  ],
  [
    'group norm without numGroups',
    { name: 'MLP', numInputs: 3, numOutputs: 1, hiddenDims: [2], norm: 'group' },
    'needs the argument numGroups',
  ],
  [
    'misspelled activation argument',
    { name: 'MLP', numInputs: 3, numOutputs: 1, hiddenDims: [2], act: ['elu', { alpah: 1 }] },
    "Did you mean 'alpha'?",
  ],
  [
    'instance norm after linear',
    { name: 'MLP', numInputs: 3, numOutputs: 1, hiddenDims: [2], norm: 'instance' },
    "norm 'instance' needs spatial axes",
  ],
  [
    'layer norm in conv encoder',
    { name: 'CNN', inShape: [1, 8], numOutputs: 2, convArgs: { channels: [2], norm: 'layer' } },
    "norm 'layer' is not available",
  ],
  [
    'pooling index out of range',
    {
      name: 'CNN',
      inShape: [1, 8],
      numOutputs: 2,
      convArgs: { channels: [2], poolingIndices: [1] },
    },
    'indices must be in [-1, 0]',
  ],
  [
    'kernel list of wrong length',
    {
      name: 'CNN',
      inShape: [1, 8, 8],
      numOutputs: 2,
      convArgs: { channels: [2], kernelSize: [3, 3, 3] },
    },
    'needs 2 entries',
  ],
  [
    'per-layer list of wrong length',
    { name: 'CNN', inShape: [1, 8], numOutputs: 2, convArgs: { channels: [2, 2], stride: [[1]] } },
    'one entry per layer (2)',
  ],
  [
    'image too small',
    { name: 'CNN', inShape: [1, 4], numOutputs: 2, convArgs: { channels: [2, 2] } },
    'too small',
  ],
  [
    'trilinear on 2D images',
    {
      name: 'AutoEncoder',
      inShape: [1, 8, 8],
      latentSize: 2,
      convArgs: { channels: [2] },
      unpoolingMode: 'trilinear',
    },
    "'trilinear' works with 3D images only",
  ],
];

describe('invalid network configs', () => {
  for (const [label, json, fragment] of BAD_CONFIGS) {
    it(`rejects ${label}`, () => {
      assert.throws(
        () => networkFromJSON(json).toGraph(),
        (error: Error) => {
          assert.ok(error instanceof UserError, `expected a UserError, got ${error.name}`);
          assert.ok(error.message.includes(fragment), error.message);
          return true;
        },
      );
    });
  }
});
