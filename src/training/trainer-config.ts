// The Trainer's configuration (ClinicaDL's OptimizationConfig and callbacks' settings): a zod
// schema with defaults, stored in experiment.json.

import { z } from 'zod';
import { parseConfig } from '../config.js';
import { scheduleConfig } from '../optim/schedules.js';

const positiveInt = z.number().int().min(1);

export const trainerSchema = z.strictObject({
  /** Number of epochs; default 10. */
  epochs: positiveInt.default(10),
  /** Static batch size the model compiles for; default 2. */
  batchSize: positiveInt.default(2),
  /** Validate every this many epochs; default 1. */
  evaluationInterval: positiveInt.default(1),
  /** Write checkpoints/last every this many epochs (and after the last); default 1. */
  checkpointInterval: positiveInt.default(1),
  /** Validation metrics: loss names of the model or metric names; default ['loss']. */
  metrics: z.array(z.string()).default(['loss']),
  /** Metrics whose best value keeps a best-<metric> model; default ['loss']. */
  selection: z.array(z.string()).default(['loss']),
  /** Stop when `metric` has not improved by minDelta for `patience` validations; default off. */
  earlyStopping: z
    .strictObject({
      metric: z.string(),
      patience: positiveInt,
      minDelta: z.number().min(0).default(0),
    })
    .nullable()
    .default(null),
  /**
   * Learning-rate schedule JSON (`{ name: 'Step', stepSize: 2, gamma: 0.5 }`), stepped once per
   * epoch and scaling every learning rate; default null (constant).
   */
  schedule: z.looseObject({ name: z.string() }).nullable().default(null),
  /** Metric ReduceLROnPlateau monitors: a validation metric, else the training loss. */
  scheduleMetric: z.string().default('loss'),
  /** Seed of the parameter initialisation and of the batch order; default 0. */
  seed: z.number().int().min(0).default(0),
  /** Micro-batches whose gradients are averaged before each optimizer update; default 1. */
  accumulationSteps: positiveInt.default(1),
  /** Largest global L2 norm of the gradients (clip_grad_norm_); default null (off). */
  clipGradNorm: z.number().positive().nullable().default(null),
  /** Gradients clamped to [-value, value] (clip_grad_value_); default null (off). */
  clipGradValue: z.number().positive().nullable().default(null),
  /**
   * Gradient checkpointing: 'none', 'auto' (segments chosen by planned memory) or
   * `{ segments: k }`. It recomputes activations in the backward pass, trading time for memory
   * on volumes that do not fit; the results keep their bits. Default 'none'.
   */
  gradientCheckpointing: z
    .union([z.literal('none'), z.literal('auto'), z.strictObject({ segments: positiveInt })])
    .default('none'),
});

export type TrainerConfig = z.output<typeof trainerSchema>;

/** Parses the Trainer's options. */
export function trainerConfig(json: unknown): TrainerConfig {
  const config = parseConfig('TrainerConfig', trainerSchema, json ?? {});
  if (config.schedule) config.schedule = scheduleConfig(config.schedule);
  return config;
}
