// Entry of the browser smoke test page: exposes runSmoke() for the test to call through
// playwright, running the smoke kernel through the runtime on navigator.gpu.

import { acquireGpu, describeAdapter } from '../../runtime/device.js';
import { runSmokeKernel, smokeInput } from './kernel.js';

export interface SmokeResult {
  adapter: string;
  y: number[];
  hash: number[];
}

declare global {
  interface Window {
    runSmoke(length: number): Promise<SmokeResult>;
  }
}

window.runSmoke = async (length: number): Promise<SmokeResult> => {
  const gpu = await acquireGpu();
  try {
    const result = await runSmokeKernel(gpu, smokeInput(length));
    return { adapter: describeAdapter(gpu.adapterInfo), ...result };
  } finally {
    gpu.destroy();
  }
};
