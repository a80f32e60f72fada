import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LrSchedule, scheduleConfig } from '../../src/optim/schedules.js';

/** Learning rates of torch.optim.lr_scheduler (scripts/fixtures/torch_schedules.py). */
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/lr-schedules.json', import.meta.url), 'utf8'),
);

describe('LrSchedule', () => {
  for (const item of fixture.cases) {
    it(`matches torch for ${JSON.stringify(item.config)}`, () => {
      const schedule = new LrSchedule(scheduleConfig(item.config), fixture.baseLr);
      const lrs = [schedule.lr];
      for (let step = 0; step < item.lrs.length - 1; step++) {
        lrs.push(schedule.step(fixture.plateauMetrics[step]));
      }
      item.lrs.forEach((expected: number, step: number) => {
        assert.ok(
          Math.abs(lrs[step]! - expected) <= 1e-12 * Math.max(1, expected),
          `step ${step}: ${lrs[step]} != ${expected}`,
        );
      });
    });
  }

  it('restores a saved state', () => {
    const config = scheduleConfig({ name: 'ReduceLROnPlateau', patience: 0 });
    const first = new LrSchedule(config, 1);
    first.step(1);
    first.step(2);
    const second = new LrSchedule(config, 1);
    second.restore(first.state());
    assert.equal(second.step(3), first.step(3));
    assert.equal(second.epoch, 3);
  });

  it('rejects a plateau step without a metric', () => {
    const schedule = new LrSchedule(scheduleConfig({ name: 'ReduceLROnPlateau' }), 1);
    assert.throws(() => schedule.step(), /needs a finite metric value/);
  });
});

describe('scheduleConfig', () => {
  it('suggests the closest schedule name', () => {
    assert.throws(() => scheduleConfig({ name: 'Stepp' }), /Did you mean 'Step'\?/);
  });

  it('names an invalid field and its value', () => {
    assert.throws(
      () => scheduleConfig({ name: 'Step', stepSize: 0 }),
      /StepLRConfig\.stepSize: .*got 0/,
    );
  });

  it('suggests the closest field', () => {
    assert.throws(
      () => scheduleConfig({ name: 'Step', stepSize: 2, gama: 0.5 }),
      /unknown field 'gama'\. Did you mean 'gamma'\?/,
    );
  });
});
