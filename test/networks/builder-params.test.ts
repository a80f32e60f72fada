import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'mocha';
import { summarise } from '../../src/graph/summary.js';
import { networkFromJSON } from '../../src/networks/registry.js';

interface FixtureCase {
  network: string;
  config: Record<string, unknown>;
  params: number;
  state: [string, number[]][];
  outputShapes: number[][];
}

// Written by scripts/fixtures/builder_params.py from PyTorch 1.13 modules built by hand.
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/builder-params.json', import.meta.url), 'utf8'),
) as { batchSize: number; cases: FixtureCase[] };

const byName = (a: [string, number[]], b: [string, number[]]) => (a[0] < b[0] ? -1 : 1);

describe('builder networks against PyTorch', () => {
  fixture.cases.forEach((testCase, index) => {
    const label = `${testCase.network} case ${index}`;
    const graph = () =>
      networkFromJSON({ name: testCase.network, ...testCase.config }).toGraph({
        batchSize: fixture.batchSize,
      });

    it(`${label}: parameter count`, () => {
      assert.equal(summarise(graph()).totalParams, testCase.params);
    });

    it(`${label}: state_dict names and shapes`, () => {
      const built = graph()
        .stateValues()
        .map((value): [string, number[]] => [value.name ?? '', [...value.shape]]);
      assert.deepEqual(built.sort(byName), [...testCase.state].sort(byName));
    });

    it(`${label}: output shapes`, () => {
      const shapes = graph().outputs.map((output) => [...output.value.shape]);
      assert.deepEqual(shapes, testCase.outputShapes);
    });
  });
});
