import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { UserError } from '../../src/errors.js';
import { Xoshiro128 } from '../../src/graph/init.js';
import { networkFromJSON } from '../../src/networks/registry.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const BASES: Json[] = [
  {
    name: 'MLP',
    numInputs: 6,
    numOutputs: 2,
    hiddenDims: [4, 3],
    norm: ['group', { numGroups: 2 }],
  },
  {
    name: 'CNN',
    inShape: [1, 12, 10],
    numOutputs: 2,
    convArgs: { channels: [2, 4], poolingIndices: [0], kernelSize: [[3, 3], 3], dropout: 0.1 },
    mlpArgs: { hiddenDims: [5], outputAct: ['softmax', { axis: 1 }] },
  },
  {
    name: 'Generator',
    latentSize: 4,
    startShape: [2, 3, 3],
    convArgs: { channels: [2, 1], unpoolingIndices: [-1, 0], outputPadding: 1, stride: 2 },
  },
  {
    name: 'AutoEncoder',
    inShape: [1, 11, 9],
    latentSize: 3,
    convArgs: { channels: [2, 2], poolingIndices: [0], pooling: ['avg', { kernelSize: 2 }] },
    unpoolingMode: 'convtranspose',
  },
];

const REPLACEMENTS: Json[] = [
  null,
  true,
  -1,
  0,
  2.5,
  1e9,
  'same',
  'relu',
  [],
  [0],
  [[1]],
  {},
  ['x', {}],
];

function pick<T>(random: Xoshiro128, items: readonly T[]): T {
  return items[Math.floor(random.nextFloat() * items.length)];
}

/** Replaces, deletes or misspells one key somewhere in the JSON tree. */
function mutate(value: Json, random: Xoshiro128): Json {
  if (value === null || typeof value !== 'object') return pick(random, REPLACEMENTS);
  const copy: Json = Array.isArray(value) ? [...value] : { ...value };
  const keys = Object.keys(copy);
  if (keys.length === 0) return pick(random, REPLACEMENTS);
  const key = pick(random, keys);
  const record = copy as Record<string, Json>;
  const roll = random.nextFloat();
  if (roll < 0.15 && !Array.isArray(copy)) delete record[key];
  else if (roll < 0.25 && !Array.isArray(copy)) {
    record[`${key}x`] = record[key];
    delete record[key];
  } else if (roll < 0.6) record[key] = pick(random, REPLACEMENTS);
  else record[key] = mutate(record[key], random);
  return copy;
}

describe('network config fuzz', () => {
  it('mutated configs build or raise a UserError', () => {
    const random = new Xoshiro128(2024, 'config-fuzz');
    let rejected = 0;
    for (let trial = 0; trial < 400; trial++) {
      let json = pick(random, BASES);
      const mutations = 1 + Math.floor(random.nextFloat() * 3);
      for (let i = 0; i < mutations; i++) json = mutate(json, random);
      try {
        networkFromJSON(json).toGraph({ batchSize: 2, inputShape: [2, 7, 7] });
      } catch (error) {
        rejected += 1;
        assert.ok(error instanceof UserError, `${JSON.stringify(json)}\n${String(error)}`);
        assert.ok((error as Error).message.length > 0);
      }
    }
    assert.ok(rejected > 100, `only ${rejected} of 400 mutations were rejected`);
  });
});
