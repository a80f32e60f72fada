// The page behind browser.test.ts, bundled for Chromium: it trains the shared tiny network on
// WebGPU with a MemoryLoader, writes the experiment folder into memoryStorage and returns it
// as a zip.

import { MemoryLoader } from '../../../src/data/memory-loader.js';
import { acquireGpu, describeAdapter } from '../../../src/runtime/device.js';
import { memoryStorage } from '../../../src/training/storage.js';
import { Trainer } from '../../../src/training/trainer.js';
import { tinyModel, toMemorySamples, TRAINER_CONFIG, type PlainSample } from './setup.js';

export interface PageResult {
  adapter: string;
  zip: number[];
  trainLosses: number[];
}

declare global {
  interface Window {
    trainInPage(train: PlainSample[], validation: PlainSample[]): Promise<PageResult>;
  }
}

window.trainInPage = async (train, validation) => {
  const gpu = await acquireGpu();
  try {
    const storage = memoryStorage();
    const { batchSize } = TRAINER_CONFIG;
    const trainer = new Trainer({ maps: storage, model: tinyModel(), gpu, config: TRAINER_CONFIG });
    const history = await trainer.train({
      train: new MemoryLoader(toMemorySamples(train), { batchSize, seed: 1 }),
      validation: new MemoryLoader(toMemorySamples(validation), { batchSize }),
    });
    return {
      adapter: describeAdapter(gpu.adapterInfo),
      zip: [...storage.toZip()],
      trainLosses: history.map((record) => record.train.loss!),
    };
  } finally {
    gpu.destroy();
  }
};
