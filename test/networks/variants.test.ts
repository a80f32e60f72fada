import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { UserError } from '../../src/errors.js';
import type { Graph } from '../../src/graph/ir.js';
import { summarise } from '../../src/graph/summary.js';
import { networkFromJSON } from '../../src/networks/registry.js';
import { LITERATURE_VARIANTS } from '../../src/networks/variants.js';
import {
  digestLines,
  loadTorchvisionFixture,
  parameterGroups,
  productFlops,
  stateDictLines,
  type NetworkDigest,
} from './torchvision-fixture.js';

const fixture = loadTorchvisionFixture();

/** Builds the variant in the fixture's setting: 2D RGB with 1000 outputs, or 3D MRI. */
function buildVariant(name: string, setting: '2d' | '3d', expected: NetworkDigest): Graph {
  const Config = LITERATURE_VARIANTS[name];
  const config =
    setting === '2d'
      ? new Config({ numOutputs: 1000 })
      : new Config({
          numOutputs: 2,
          spatialDims: 3,
          inChannels: 1,
          imageSize: expected.inShape.slice(1),
        });
  return config.toGraph();
}

describe('literature variants against torchvision', () => {
  it('fixture covers every variant', () => {
    assert.deepEqual(Object.keys(LITERATURE_VARIANTS).sort(), Object.keys(fixture.variants).sort());
  });

  for (const [name, settings] of Object.entries(fixture.variants)) {
    for (const setting of ['2d', '3d'] as const) {
      const expected = settings[setting];
      describe(`${name} ${setting}`, () => {
        const graph = buildVariant(name, setting, expected);

        it('parameter count', () => {
          assert.equal(summarise(graph).totalParams, expected.parameterCount);
        });

        it('parameter count per module', () => {
          assert.deepEqual(parameterGroups(graph), expected.groups);
        });

        it('parameter names and shapes', () => {
          const digest = digestLines(stateDictLines(graph, false));
          assert.equal(digest.tensors, expected.parameters.tensors);
          assert.deepEqual(digest.first, expected.parameters.first);
          assert.deepEqual(digest.last, expected.parameters.last);
          assert.equal(digest.sha256, expected.parameters.sha256);
        });

        it('state_dict names and shapes', () => {
          const digest = digestLines(stateDictLines(graph, true));
          assert.equal(digest.tensors, expected.stateDict.tensors);
          assert.equal(digest.sha256, expected.stateDict.sha256);
        });

        it('forward FLOPs of the products', () => {
          assert.equal(productFlops(graph), expected.productFlops);
        });

        it('input and output shapes', () => {
          assert.deepEqual(graph.input('input')?.shape, [1, ...expected.inShape]);
          assert.deepEqual(graph.output('output')?.shape, [1, expected.numOutputs]);
        });
      });
    }
  }
});

describe('literature variant configs', () => {
  for (const name of Object.keys(LITERATURE_VARIANTS)) {
    it(`${name} JSON round trip`, () => {
      const config = new LITERATURE_VARIANTS[name]({
        numOutputs: 3,
        outputAct: ['softmax', { axis: 1 }],
        spatialDims: 3,
        inChannels: 1,
        imageSize: [64, 96, 64],
      });
      const json = JSON.parse(JSON.stringify(config));
      assert.equal(json.name, name);
      const again = networkFromJSON(json);
      assert.deepEqual(again.toJSON(), config.toJSON());
    });
  }

  it('defaults filled in JSON', () => {
    const json = new LITERATURE_VARIANTS.ResNet18({ numOutputs: 2 }).toJSON();
    assert.deepEqual(json, {
      name: 'ResNet18',
      numOutputs: 2,
      outputAct: null,
      spatialDims: 2,
      inChannels: 3,
      imageSize: 224,
    });
  });

  it('numOutputs null returns features', () => {
    const resNet = new LITERATURE_VARIANTS.ResNet50({ numOutputs: null }).toGraph();
    assert.deepEqual(resNet.output('output')?.shape, [1, 2048, 7, 7]);
    const denseNet = new LITERATURE_VARIANTS.DenseNet121({ numOutputs: null }).toGraph();
    assert.deepEqual(denseNet.output('output')?.shape, [1, 1024, 7, 7]);
    assert.equal(denseNet.output('output')?.producer?.scope, 'features.norm5');
    const viT = new LITERATURE_VARIANTS.ViTB32({ numOutputs: null }).toGraph();
    assert.deepEqual(viT.output('output')?.shape, [1, 49, 768]);
  });

  const invalid: [string, string, Record<string, unknown>, RegExp][] = [
    ['spatialDims 4', 'ResNet18', { numOutputs: 2, spatialDims: 4 }, /field 'spatialDims'/],
    ['spatialDims 1', 'DenseNet121', { numOutputs: 2, spatialDims: 1 }, /field 'spatialDims'/],
    ['missing numOutputs', 'ResNet34', {}, /field 'numOutputs'/],
    ['numOutputs 0', 'ViTB16', { numOutputs: 0 }, /field 'numOutputs'/],
    ['misspelled field', 'SEResNet50', { numOutput: 2 }, /unknown field 'numOutput'/],
    ['unknown activation', 'ResNet18', { numOutputs: 2, outputAct: 'softmx' }, /outputAct/],
    ['imageSize per axis', 'ResNet18', { numOutputs: 2, imageSize: [64, 64, 64] }, /imageSize/],
    [
      'patch not dividing',
      'ViTB16',
      { numOutputs: 2, imageSize: 100 },
      /'imageSize'.*\[100, 100\]/,
    ],
  ];
  for (const [label, name, input, message] of invalid) {
    it(`rejects ${label}`, () => {
      const create = () => new LITERATURE_VARIANTS[name](input as never);
      assert.throws(
        create,
        (error: Error) => error instanceof UserError && message.test(error.message),
      );
    });
  }

  it('rejects an input of the wrong rank', () => {
    const config = new LITERATURE_VARIANTS.ResNet18({ numOutputs: 2, spatialDims: 3 });
    assert.throws(() => config.toGraph({ inputShape: [3, 64, 64] }), /ResNet18 expects an input/);
  });

  it('misspelled network suggests the name', () => {
    assert.throws(() => networkFromJSON({ name: 'ResNet51', numOutputs: 2 }), /ResNet50/);
  });
});
