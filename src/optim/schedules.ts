// Learning-rate schedules with torch.optim.lr_scheduler's semantics (PyTorch 1.13): a
// schedule starts at the optimizer's learning rate (epoch 0) and `step()` advances it by one
// epoch (or one batch, for step-based use such as OneCycle). ReduceLROnPlateau steps on a
// metric instead.

import { z } from 'zod';
import { parseConfig } from '../config.js';
import { UserError } from '../errors.js';
import { closestName } from '../graph/suggest.js';

const SCHEMAS = {
  Constant: z.strictObject({
    name: z.literal('Constant'),
    /** Multiplier of the learning rate until totalIters; default 1/3. */
    factor: z
      .number()
      .gt(0)
      .max(1)
      .default(1 / 3),
    totalIters: z.number().int().min(0).default(5),
  }),
  Step: z.strictObject({
    name: z.literal('Step'),
    /** Epochs between decays. */
    stepSize: z.number().int().positive(),
    gamma: z.number().positive().default(0.1),
  }),
  MultiStep: z.strictObject({
    name: z.literal('MultiStep'),
    /** Epochs at which the learning rate is multiplied by gamma, increasing. */
    milestones: z.array(z.number().int().min(0)),
    gamma: z.number().positive().default(0.1),
  }),
  Exponential: z.strictObject({
    name: z.literal('Exponential'),
    gamma: z.number().positive(),
  }),
  Linear: z.strictObject({
    name: z.literal('Linear'),
    startFactor: z
      .number()
      .gt(0)
      .max(1)
      .default(1 / 3),
    endFactor: z.number().min(0).max(1).default(1),
    totalIters: z.number().int().positive().default(5),
  }),
  Polynomial: z.strictObject({
    name: z.literal('Polynomial'),
    totalIters: z.number().int().positive().default(5),
    power: z.number().positive().default(1),
  }),
  OneCycle: z.strictObject({
    name: z.literal('OneCycle'),
    /** Peak learning rate; the optimizer's own learning rate is not used. */
    maxLr: z.number().positive(),
    /** Number of steps of the whole cycle (epochs x batches per epoch when step-based). */
    totalSteps: z.number().int().positive(),
    pctStart: z.number().gt(0).lt(1).default(0.3),
    annealStrategy: z.enum(['cos', 'linear']).default('cos'),
    divFactor: z.number().positive().default(25),
    finalDivFactor: z.number().positive().default(1e4),
    threePhase: z.boolean().default(false),
  }),
  ReduceLROnPlateau: z.strictObject({
    name: z.literal('ReduceLROnPlateau'),
    mode: z.enum(['min', 'max']).default('min'),
    factor: z.number().gt(0).lt(1).default(0.1),
    /** Epochs without improvement before the learning rate is reduced. */
    patience: z.number().int().min(0).default(10),
    threshold: z.number().min(0).default(1e-4),
    thresholdMode: z.enum(['rel', 'abs']).default('rel'),
    cooldown: z.number().int().min(0).default(0),
    minLr: z.number().min(0).default(0),
    /** Reductions smaller than this are skipped. */
    eps: z.number().min(0).default(1e-8),
  }),
} as const;

export type ScheduleName = keyof typeof SCHEMAS;
export type ScheduleConfig = { [K in ScheduleName]: z.output<(typeof SCHEMAS)[K]> }[ScheduleName];
export const SCHEDULE_NAMES = Object.keys(SCHEMAS) as ScheduleName[];

export function scheduleConfig(json: unknown): ScheduleConfig {
  const name = (json as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || !(name in SCHEMAS)) {
    const suggestion = typeof name === 'string' ? closestName(name, SCHEDULE_NAMES) : undefined;
    throw new UserError(
      `Unknown learning-rate schedule ${JSON.stringify(name)}.` +
        (suggestion ? ` Did you mean '${suggestion}'?` : '') +
        ` Available: ${SCHEDULE_NAMES.join(', ')}.`,
    );
  }
  return parseConfig(`${name}LRConfig`, SCHEMAS[name as ScheduleName], json) as ScheduleConfig;
}

/** The state of a schedule: the current learning rate and what step() needs. */
export class LrSchedule {
  /** Steps taken so far (torch's last_epoch). */
  epoch = 0;
  lr: number;
  private best: number | undefined;
  private badEpochs = 0;
  private cooldownLeft = 0;

  constructor(
    readonly config: ScheduleConfig,
    readonly baseLr: number,
  ) {
    this.lr = this.valueAt(0);
  }

  /** Advances one epoch (or batch); ReduceLROnPlateau needs the monitored `metric`. */
  step(metric?: number): number {
    this.epoch += 1;
    if (this.config.name === 'ReduceLROnPlateau') {
      if (metric === undefined || !Number.isFinite(metric)) {
        throw new UserError(
          `ReduceLROnPlateau needs a finite metric value at each step, got ${metric}.`,
        );
      }
      this.plateauStep(metric);
    } else {
      this.lr = this.valueAt(this.epoch);
    }
    return this.lr;
  }

  /** Captures the state for a checkpoint. */
  state(): Record<string, number | null> {
    return {
      epoch: this.epoch,
      lr: this.lr,
      best: this.best ?? null,
      badEpochs: this.badEpochs,
      cooldownLeft: this.cooldownLeft,
    };
  }

  restore(state: Record<string, number | null>): void {
    this.epoch = state.epoch ?? 0;
    this.lr = state.lr ?? this.baseLr;
    this.best = state.best ?? undefined;
    this.badEpochs = state.badEpochs ?? 0;
    this.cooldownLeft = state.cooldownLeft ?? 0;
  }

  private valueAt(epoch: number): number {
    const config = this.config;
    const base = this.baseLr;
    switch (config.name) {
      case 'Constant':
        return epoch < config.totalIters ? base * config.factor : base;
      case 'Step':
        return base * config.gamma ** Math.floor(epoch / config.stepSize);
      case 'MultiStep':
        return base * config.gamma ** config.milestones.filter((m) => m <= epoch).length;
      case 'Exponential':
        return base * config.gamma ** epoch;
      case 'Linear': {
        const progress = Math.min(epoch, config.totalIters) / config.totalIters;
        return base * (config.startFactor + (config.endFactor - config.startFactor) * progress);
      }
      case 'Polynomial':
        return base * (1 - Math.min(epoch, config.totalIters) / config.totalIters) ** config.power;
      case 'OneCycle':
        return oneCycle(config, epoch);
      case 'ReduceLROnPlateau':
        return base;
    }
  }

  private plateauStep(metric: number): void {
    const config = this.config as z.output<typeof SCHEMAS.ReduceLROnPlateau>;
    if (this.best === undefined || this.improves(metric, this.best, config)) {
      this.best = metric;
      this.badEpochs = 0;
    } else {
      this.badEpochs += 1;
    }
    if (this.cooldownLeft > 0) {
      this.cooldownLeft -= 1;
      this.badEpochs = 0;
    }
    if (this.badEpochs > config.patience) {
      const reduced = Math.max(this.lr * config.factor, config.minLr);
      if (this.lr - reduced > config.eps) this.lr = reduced;
      this.cooldownLeft = config.cooldown;
      this.badEpochs = 0;
    }
  }

  private improves(
    metric: number,
    best: number,
    config: z.output<typeof SCHEMAS.ReduceLROnPlateau>,
  ): boolean {
    const { mode, thresholdMode, threshold } = config;
    if (mode === 'min') {
      return thresholdMode === 'rel' ? metric < best * (1 - threshold) : metric < best - threshold;
    }
    return thresholdMode === 'rel' ? metric > best * (1 + threshold) : metric > best + threshold;
  }
}

function oneCycle(config: z.output<typeof SCHEMAS.OneCycle>, step: number): number {
  if (step > config.totalSteps) {
    throw new UserError(
      `OneCycle was stepped ${step} times but totalSteps is ${config.totalSteps}; raise ` +
        'totalSteps to the number of steps of the whole training.',
    );
  }
  const initial = config.maxLr / config.divFactor;
  const minimum = initial / config.finalDivFactor;
  const total = config.totalSteps;
  const phases = config.threePhase
    ? [
        { end: config.pctStart * total - 1, from: initial, to: config.maxLr },
        { end: 2 * config.pctStart * total - 2, from: config.maxLr, to: initial },
        { end: total - 1, from: initial, to: minimum },
      ]
    : [
        { end: config.pctStart * total - 1, from: initial, to: config.maxLr },
        { end: total - 1, from: config.maxLr, to: minimum },
      ];
  let start = 0;
  for (const [index, phase] of phases.entries()) {
    if (step <= phase.end || index === phases.length - 1) {
      const fraction = (step - start) / (phase.end - start);
      if (config.annealStrategy === 'linear')
        return (phase.to - phase.from) * fraction + phase.from;
      return phase.to + ((phase.from - phase.to) / 2) * (Math.cos(Math.PI * fraction) + 1);
    }
    start = phase.end;
  }
  return minimum;
}
