import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { UserError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { Xoshiro128 } from '../../src/graph/init.js';
import { LAYERS, type ArgValue } from '../../src/graph/layers.js';

const VALUES: ArgValue[] = [
  null,
  true,
  false,
  -2,
  -1,
  0,
  1,
  2,
  3,
  0.5,
  'same',
  'valid',
  'tanh',
  'nearest',
  'bilinear',
  'reflect',
  [],
  [1],
  [2, 2],
  [3, 1, 2],
  [0, -1],
  [1, 2, 3, 4],
];
const SHAPES = [[2], [2, 3], [2, 4, 5], [1, 4, 6, 7], [2, 2, 3, 4, 5], [1, 8, 1, 1]];

function pick<T>(random: Xoshiro128, items: readonly T[]): T {
  return items[Math.floor(random.nextFloat() * items.length)];
}

describe('layer argument fuzz', () => {
  it('random arguments build or raise a UserError', () => {
    const random = new Xoshiro128(7, 'layer-fuzz');
    const names = Object.keys(LAYERS);
    let built = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const def = LAYERS[pick(random, names)];
      const args: Record<string, ArgValue> = {};
      for (const param of def.params) {
        if (random.nextFloat() < 0.6) args[param.name] = pick(random, VALUES);
      }
      const count = def.inputs === 'variadic' ? 1 + Math.floor(random.nextFloat() * 3) : def.inputs;
      const builder = new GraphBuilder();
      const inputs = Array.from({ length: count }, (_, i) =>
        builder.input(`x${i}`, pick(random, SHAPES)),
      );
      try {
        def.build(builder, inputs, args, 'm');
        built += 1;
      } catch (error) {
        assert.ok(
          error instanceof UserError,
          `${def.name} ${JSON.stringify(args)} on ${inputs.map((x) => `[${x.shape}]`)}: ${String(error)}`,
        );
      }
    }
    assert.ok(built > 100, `only ${built} of 3000 random layers built`);
  });
});
