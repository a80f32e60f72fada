// What the browser training test and its page share: a .net network of 178 parameters whose
// block comes from an imported file, synthetic 8x8x8 samples and the Trainer's settings. It
// bundles for browsers, so it imports no Node module.

import type { MemorySample } from '../../../src/data/memory-loader.js';
import { CrossEntropyLossConfig } from '../../../src/losses/index.js';
import { SupervisedModel } from '../../../src/models/index.js';
import { SGDConfig } from '../../../src/optim/optimizers.js';

const NET_SOURCE = `import "lib/act.net"
network Tiny(inShape: ints = [1, 8, 8, 8]) {
  input image: inShape
  x = Act(conv(image, 4, 3, padding: 1, name: "conv"))
  output logits = linear(flatten(maxPool(x, 4)), 2, name: "fc")
}
`;
const ACT_SOURCE = `block Act(x: tensor) { return relu(x, name: "act") }
`;

export const NET_IMPORTS = { 'lib/act.net': ACT_SOURCE };

export const tinyModel = () =>
  new SupervisedModel({
    network: { netSource: NET_SOURCE, netImports: NET_IMPORTS },
    loss: CrossEntropyLossConfig(),
    optimizer: SGDConfig({ lr: 0.1 }),
    labelKey: 'label',
  });

export const TRAINER_CONFIG = {
  epochs: 2,
  batchSize: 4,
  seed: 3,
  metrics: ['loss', 'accuracy'],
  selection: ['loss'],
};

/** A sample as plain data, as page.evaluate passes it. */
export interface PlainSample {
  image: number[];
  label: number;
}

/**
 * Returns `count` samples: noise in [0, 0.5) plus, for label 1, a bright 3x3x3 cube whose corner
 * moves with the sample. The noise comes from a fixed linear congruential generator.
 */
export function syntheticSamples(count: number, seed: number): PlainSample[] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, (_, index) => {
    const label = index % 2;
    const image = Array.from({ length: 512 }, () => 0.5 * next());
    if (label === 1) {
      const corner = index % 5;
      for (let z = 0; z < 3; z++) {
        for (let y = 0; y < 3; y++) {
          for (let x = 0; x < 3; x++) image[corner + x + 8 * (corner + y + 8 * (corner + z))] = 2;
        }
      }
    }
    return { image, label };
  });
}

export const toMemorySamples = (samples: readonly PlainSample[]): MemorySample[] =>
  samples.map(({ image, label }, index) => ({
    image: Float32Array.from(image),
    shape: [1, 8, 8, 8],
    label,
    participant_id: `sub-${index}`,
  }));
