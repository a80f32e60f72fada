import assert from 'node:assert/strict';
import {
  AdamConfig,
  AdamWConfig,
  isFrozen,
  optimizerConfig,
  SGDConfig,
  valueForParam,
} from '../../src/optim/optimizers.js';

describe('optimizer configs', () => {
  it('fill PyTorch defaults', () => {
    const adam = AdamConfig();
    assert.equal(adam.lr, 1e-3);
    assert.deepEqual(adam.betas, [0.9, 0.999]);
    assert.equal(adam.eps, 1e-8);
    assert.equal(adam.weightDecay, 0);
    assert.equal(AdamWConfig().weightDecay, 0.01);
    assert.equal(SGDConfig({ lr: 0.1 }).momentum, 0);
  });

  it('round-trip through JSON', () => {
    const config = SGDConfig({
      lr: { classifier: 0.1, ELSE: 0.01 },
      momentum: 0.9,
      nesterov: true,
    });
    const copy = optimizerConfig(JSON.parse(JSON.stringify(config)));
    assert.deepEqual(copy, config);
  });

  it('reject invalid values with the field name', () => {
    assert.throws(() => AdamConfig({ lr: -1 }), /AdamConfig\.lr: .*got -1/);
    assert.throws(() => optimizerConfig({ name: 'Adma' }), /Did you mean 'Adam'\?/);
    assert.throws(
      () => optimizerConfig({ name: 'SGD', momentun: 0.9 }),
      /unknown field 'momentun'\. Did you mean 'momentum'\?/,
    );
  });

  it('resolve per-group values by longest prefix', () => {
    const lr = { features: 0.01, 'features.0': 0.001, ELSE: 0.1 };
    assert.equal(valueForParam('lr', lr, 'features.0.weight'), 0.001);
    assert.equal(valueForParam('lr', lr, 'features.1.weight'), 0.01);
    assert.equal(valueForParam('lr', lr, 'classifier.weight'), 0.1);
    assert.equal(valueForParam('lr', 0.5, 'anything'), 0.5);
    assert.throws(
      () => valueForParam('lr', { features: 0.1 }, 'fc.weight'),
      /no value for parameter 'fc.weight'/,
    );
  });

  it('freeze sub-networks by prefix', () => {
    const config = AdamConfig({ freeze: ['encoder'] });
    assert.ok(isFrozen(config, 'encoder.conv.weight'));
    assert.ok(!isFrozen(config, 'encoder2.weight'));
  });
});
