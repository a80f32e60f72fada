// A training process for the kill test: trains the trainer test's model into the folder given
// as argument, prints 'stalled' once it is inside epoch 2, and waits there to be killed.

import type { BatchSource } from '../../src/data/batch.js';
import { acquireGpu } from '../../src/runtime/index.js';
import { Trainer } from '../../src/training/trainer.js';
import { patchSource, readPatches } from '../models/patches.js';
import { CONFIG, killTestModel } from './kill-setup.js';

const maps = process.argv[2]!;
const gpu = await acquireGpu();
const patches = await readPatches(10, 6);
const train = patchSource(patches, 4, 1);
const stalling: BatchSource = {
  ...train,
  async *batches(epoch, shuffle) {
    let count = 0;
    for await (const batch of train.batches(epoch, shuffle)) {
      if (epoch === 2 && count++ === 1) {
        process.stdout.write('stalled\n');
        await new Promise(() => {});
      }
      yield batch;
    }
  },
};
const trainer = new Trainer({ maps, model: killTestModel(), gpu, config: CONFIG });
await trainer.train({ train: stalling, validation: patchSource(patches, 4, 2) });
