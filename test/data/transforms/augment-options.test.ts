// randomAugment's option checks: unknown, missing and invalid fields named with a suggestion.

import assert from 'node:assert/strict';

import { UserError } from '../../../src/errors.js';
import { randomAugment } from '../../../src/data/transforms/augment.js';
import { checkAugmentOptions } from '../../../src/data/transforms/augment-options.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { volumeOf, wasmKernels } from './helpers.js';

describe('randomAugment options', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });

  // [name, options, parts of the message]
  const invalid: [string, unknown, RegExp[]][] = [
    [
      'gamma.range for logRange',
      { gamma: { range: 0.3 } },
      [
        /^randomAugment option gamma has no field 'range'/,
        /known fields are logRange/,
        /Did you mean 'logRange'\?/,
      ],
    ],
    [
      'a misspelled augmentation',
      { gama: { logRange: 0.3 } },
      [
        /^randomAugment options have no field 'gama'/,
        /flip, noise, gamma, biasField, affine/,
        /Did you mean 'gamma'\?/,
      ],
    ],
    [
      'a misspelled field',
      { affine: { degrees: 5, scale: 0.1, translationMM: 2 } },
      [/option affine has no field 'translationMM'/, /Did you mean 'translationMm'\?/],
    ],
    [
      'an unrelated field',
      { noise: { sigma: 1, min: 0, max: 1 } },
      [/no field 'sigma'; the known fields are min, max\.$/],
    ],
    [
      'a missing field',
      { noise: { min: 0.1 } },
      [/^randomAugment option noise\.max is missing: expected a finite number >= 0\.$/],
    ],
    ['an empty gamma', { gamma: {} }, [/option gamma\.logRange is missing/]],
    [
      'a NaN range',
      { gamma: { logRange: NaN } },
      [/option gamma\.logRange is NaN, which is invalid/],
    ],
    [
      'a string range',
      { gamma: { logRange: '0.3' } },
      [/option gamma\.logRange is "0\.3", which is invalid/],
    ],
    [
      'a fractional order',
      { biasField: { order: 1.5, coefficient: 0.1 } },
      [/biasField\.order is 1\.5.*an integer in \[0, 6\]/],
    ],
    [
      'a scale of 1',
      { affine: { degrees: 5, scale: 1, translationMm: 2 } },
      [/affine\.scale is 1.*in \[0, 1\)/],
    ],
    [
      'flip axis 3',
      { flip: { probability: 0.5, axes: [0, 3] } },
      [/flip\.axes is \[0,3\], which is invalid/],
    ],
    ['noise min above max', { noise: { min: 2, max: 1 } }, [/noise has min 2 > max 1/]],
    [
      'a number for gamma',
      { gamma: 0.3 },
      [/option gamma must be an object with the fields logRange; got 0\.3\./],
    ],
    ['options that are a list', [], [/^randomAugment options must be an object/]],
    ['an inherited name', { toString: {} }, [/options have no field 'toString'/]],
    ['an inherited field', { gamma: { logRange: 1, valueOf: 1 } }, [/no field 'valueOf'/]],
  ];
  for (const [name, options, messages] of invalid) {
    it(`rejects ${name}`, () => {
      const image = volumeOf([4, 4, 4], (i) => i + 1);
      assert.throws(
        () => randomAugment(wasm, image, options as never, 1),
        (error: Error) => {
          assert.ok(error instanceof UserError, `${error.name}: ${error.message}`);
          for (const message of messages) assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  const valid: [string, unknown][] = [
    ['no augmentation', {}],
    ['off augmentations', { gamma: undefined, noise: null }],
    ['flip without axes', { flip: { probability: 1 } }],
    [
      'every augmentation',
      {
        flip: { probability: 0.5, axes: [0, 2] },
        noise: { min: 0, max: 0 },
        gamma: { logRange: 0 },
        biasField: { order: 6, coefficient: 0.1 },
        affine: { degrees: 0, scale: 0, translationMm: 0 },
      },
    ],
  ];
  for (const [name, options] of valid) {
    it(`accepts ${name}`, () => {
      assert.equal(checkAugmentOptions(options), options);
    });
  }

  it('applies flip without axes on x', () => {
    const image = volumeOf([4, 1, 1], (i) => i + 1);
    const { volume, applied } = randomAugment(wasm, image, { flip: { probability: 1 } }, 3);
    assert.deepEqual(applied.flips, [true, false, false]);
    assert.deepEqual(Array.from(volume.data), [4, 3, 2, 1]);
  });
});
