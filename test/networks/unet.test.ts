import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { UserError } from '../../src/errors.js';
import { summarise } from '../../src/graph/summary.js';
import { AttentionUNetConfig } from '../../src/networks/attention-unet.js';
import { networkFromJSON } from '../../src/networks/registry.js';
import { UNetConfig } from '../../src/networks/unet.js';
import '../../src/networks/variants.js';
import {
  digestLines,
  loadTorchvisionFixture,
  parameterGroups,
  stateDictLines,
} from './torchvision-fixture.js';

const fixture = loadTorchvisionFixture();
const NETWORKS = { UNet: UNetConfig, AttentionUNet: AttentionUNetConfig };

// Arguments of the fixture cases written by scripts/fixtures/torchvision_params.py.
interface FixtureCase {
  fixture: string;
  network: keyof typeof NETWORKS;
  args: { inChannels: number; outChannels: number; channels?: number[]; act?: 'prelu' };
}
const CASES: FixtureCase[] = [
  { fixture: 'UNet', network: 'UNet', args: { inChannels: 1, outChannels: 2 } },
  { fixture: 'AttentionUNet', network: 'AttentionUNet', args: { inChannels: 1, outChannels: 2 } },
  {
    fixture: 'UNetSmallPReLU',
    network: 'UNet',
    args: { inChannels: 2, outChannels: 3, channels: [4, 8, 16], act: 'prelu' },
  },
];

describe('UNet and AttentionUNet against ClinicaDL', () => {
  for (const testCase of CASES) {
    for (const spatialDims of [2, 3] as const) {
      const expected = fixture.clinicadl[testCase.fixture][`${spatialDims}d` as const];
      describe(`${testCase.fixture} ${spatialDims}d`, () => {
        const Config = NETWORKS[testCase.network];
        const graph = new Config({ spatialDims, ...testCase.args }).toGraph({
          inputShape: expected.inShape,
        });

        it('parameter count', () => {
          assert.equal(summarise(graph).totalParams, expected.parameterCount);
          assert.deepEqual(parameterGroups(graph), expected.groups);
        });

        it('state_dict names and shapes', () => {
          const digest = digestLines(stateDictLines(graph, true));
          assert.deepEqual(digest.first, expected.stateDict.first);
          assert.deepEqual(digest.last, expected.stateDict.last);
          assert.equal(digest.sha256, expected.stateDict.sha256);
        });
      });
    }
  }
});

describe('UNet output shapes', () => {
  // [spatial size, channels]: even, odd and mixed sizes, down to the smallest allowed.
  const shapes: [number[], number[]][] = [
    [
      [32, 32],
      [4, 8, 16],
    ],
    [
      [33, 31],
      [4, 8, 16],
    ],
    [
      [4, 5],
      [4, 8, 16],
    ],
    [
      [17, 16, 15],
      [2, 4, 8],
    ],
    [
      [9, 8, 7],
      [2, 4],
    ],
    [[64], [2, 4, 8, 16]],
  ];
  for (const Config of [UNetConfig, AttentionUNetConfig]) {
    for (const [spatial, channels] of shapes) {
      it(`${Config.name} on [${spatial.join(', ')}]`, () => {
        const config = new Config({
          spatialDims: spatial.length,
          inChannels: 3,
          outChannels: 5,
          channels,
        });
        const graph = config.toGraph({ batchSize: 2, inputShape: [3, ...spatial] });
        assert.deepEqual(graph.output('output')?.shape, [2, 5, ...spatial]);
      });
    }
  }

  it('output activation keeps the shape', () => {
    const config = new UNetConfig({
      spatialDims: 2,
      inChannels: 1,
      outChannels: 2,
      channels: [4, 8],
      outputAct: ['softmax', { axis: 1 }],
    });
    const graph = config.toGraph({ inputShape: [1, 9, 10] });
    assert.deepEqual(graph.output('output')?.shape, [1, 2, 9, 10]);
    assert.equal(graph.nodes[graph.nodes.length - 1].op, 'softmax');
  });

  it('dropout adds no parameters', () => {
    const build = (dropout: number | null) =>
      new UNetConfig({
        spatialDims: 2,
        inChannels: 1,
        outChannels: 2,
        channels: [4, 8],
        dropout,
      }).toGraph({ inputShape: [1, 8, 8] });
    const withDropout = build(0.2);
    assert.equal(summarise(withDropout).totalParams, summarise(build(null)).totalParams);
    assert.ok(withDropout.nodes.some((node) => node.op === 'dropout'));
  });
});

describe('UNet configs', () => {
  for (const name of ['UNet', 'AttentionUNet']) {
    it(`${name} JSON round trip`, () => {
      const config = networkFromJSON({
        name,
        spatialDims: 3,
        inChannels: 1,
        outChannels: 4,
        channels: [8, 16, 32],
        act: ['leakyrelu', { negativeSlope: 0.1 }],
        outputAct: 'sigmoid',
        dropout: 0.1,
      });
      const json = JSON.parse(JSON.stringify(config));
      assert.deepEqual(networkFromJSON(json).toJSON(), config.toJSON());
      assert.deepEqual(json.channels, [8, 16, 32]);
    });
  }

  it('defaults filled in JSON', () => {
    const json = new UNetConfig({ spatialDims: 2, inChannels: 1, outChannels: 2 }).toJSON();
    assert.deepEqual(json.channels, [64, 128, 256, 512, 1024]);
    assert.equal(json.act, 'relu');
    assert.equal(json.outputAct, null);
    assert.equal(json.dropout, null);
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['spatialDims 4', { spatialDims: 4 }, /field 'spatialDims'/],
    ['spatialDims 0', { spatialDims: 0 }, /field 'spatialDims'/],
    ['one level', { channels: [8] }, /field 'channels'/],
    ['zero channels', { channels: [8, 0] }, /field 'channels\.1'/],
    ['dropout above 1', { dropout: 1.5 }, /field 'dropout'/],
    ['misspelled field', { chanels: [4, 8] }, /unknown field 'chanels'.*channels/],
  ];
  for (const [label, change, message] of invalid) {
    it(`rejects ${label}`, () => {
      const input = { spatialDims: 2, inChannels: 1, outChannels: 2, ...change };
      const create = () => new UNetConfig(input as never);
      assert.throws(
        create,
        (error: Error) => error instanceof UserError && message.test(error.message),
      );
    });
  }

  const tooSmall: [number[], number[]][] = [
    [
      [15, 64],
      [64, 128, 256, 512, 1024],
    ],
    [
      [8, 8, 3],
      [4, 8, 16],
    ],
  ];
  for (const [spatial, channels] of tooSmall) {
    it(`rejects input [${spatial.join(', ')}] too small`, () => {
      const config = new AttentionUNetConfig({
        spatialDims: spatial.length,
        inChannels: 1,
        outChannels: 2,
        channels,
      });
      const build = () => config.toGraph({ inputShape: [1, ...spatial] });
      const minimum = 2 ** (channels.length - 1);
      assert.throws(build, (error: Error) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /inputShape/);
        assert.match(error.message, /channels/);
        assert.match(error.message, new RegExp(`at least ${minimum} voxels`));
        return true;
      });
    });
  }

  it('rejects wrong input channels', () => {
    const config = new UNetConfig({ spatialDims: 2, inChannels: 3, outChannels: 2 });
    assert.throws(() => config.toGraph({ inputShape: [1, 64, 64] }), /UNet expects an input/);
  });

  it('needs inputShape', () => {
    const config = new UNetConfig({ spatialDims: 2, inChannels: 3, outChannels: 2 });
    assert.throws(() => config.toGraph(), /inputShape/);
  });
});
