// The model and trainer settings shared by the trainer tests and the kill worker process.

import { CrossEntropyLossConfig } from '../../src/losses/index.js';
import { SupervisedModel } from '../../src/models/index.js';
import { SGDConfig } from '../../src/optim/optimizers.js';
import { CNN } from '../models/patches.js';

export const killTestModel = () =>
  new SupervisedModel({
    network: CNN,
    loss: CrossEntropyLossConfig(),
    optimizer: SGDConfig({ lr: 0.05 }),
  });

export const CONFIG = {
  epochs: 4,
  batchSize: 4,
  metrics: ['loss', 'accuracy', 'balancedAccuracy'],
  selection: ['loss', 'accuracy'],
  seed: 5,
  schedule: { name: 'Step', stepSize: 2, gamma: 0.5 },
};
