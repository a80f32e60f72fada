import assert from 'node:assert/strict';

import { UserError } from '../../src/errors.js';
import { compileInference } from '../../src/experiment/inference.js';
import type { LoadedExperiment } from '../../src/experiment/load.js';
import { loadExperimentPath } from '../../src/experiment/node.js';
import { acquireGpu, Gpu } from '../../src/runtime/index.js';
import { explainLimits } from '../../src/web/limits.js';
import { webFixture } from './helpers.js';

/** A device whose reported storage binding and buffer limits are `bytes`. */
class SmallGpu extends Gpu {
  constructor(
    gpu: Gpu,
    private readonly bytes: number,
  ) {
    super(gpu.device, gpu.adapterInfo);
  }

  override get limits(): GPUSupportedLimits {
    const limits = this.device.limits;
    return new Proxy(limits, {
      get: (target, key) => {
        if (key === 'maxStorageBufferBindingSize' || key === 'maxBufferSize') return this.bytes;
        return Reflect.get(target, key, target) as unknown;
      },
    });
  }
}

describe('web limits message', function () {
  this.timeout(300_000);
  let experiment: LoadedExperiment;
  let gpu: Gpu;

  before(async () => {
    const data = await webFixture();
    experiment = await loadExperimentPath(data.maps);
    gpu = await acquireGpu();
  });

  after(() => gpu?.destroy());

  it('names the model and the limit', async () => {
    const small = new SmallGpu(gpu, 4096);
    await assert.rejects(explainLimits(compileInference(small, experiment), experiment), {
      name: 'GpuLimitError',
      message:
        /^This GPU's limits are too small for the model of .*maps \(input \[1, \d+, \d+, \d+\]\): .* 4096 bytes.* In a browser, try one whose WebGPU adapter has larger limits/,
    });
  });

  it('passes other errors through', async () => {
    const error = new UserError('not a limit');
    await assert.rejects(explainLimits(Promise.reject(error), experiment), (thrown) => {
      assert.equal(thrown, error);
      return true;
    });
  });

  it('returns the value when it fits', async () => {
    const network = await explainLimits(compileInference(gpu, experiment), experiment);
    assert.equal(network.batchSize, 1);
    assert.equal(
      network.inSize,
      experiment.inShape.reduce((a, b) => a * b, 1),
    );
  });
});
