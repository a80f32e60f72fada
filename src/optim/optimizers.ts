// Optimizer configurations, as ClinicaDL's optimizer config classes: fields and defaults of
// torch.optim (PyTorch 1.13), plus `freeze` (sub-networks whose parameters stay fixed) and
// per-group values: any numeric field can be `{ "<sub-network>": value, "ELSE": value }`.

import { z } from 'zod';
import { parseConfig } from '../config.js';
import { UserError } from '../errors.js';
import { closestName } from '../graph/suggest.js';

/** A number for every parameter, or one per sub-network prefix with "ELSE" for the rest. */
const perGroup = (number: z.ZodNumber) => z.union([number, z.record(z.string(), number)]);
export type PerGroup<T> = T | Record<string, T>;

const common = {
  /** Weight decay (L2 penalty) added to the gradient; default 0. */
  weightDecay: perGroup(z.number().min(0)).default(0),
  /** Prefixes of parameter names (sub-networks) that are not trained; default none. */
  freeze: z.array(z.string()).default([]),
  /** Maximise the objective instead of minimising it; default false. */
  maximize: z.boolean().default(false),
};

const positive = () => z.number().positive();

const SCHEMAS = {
  SGD: z.strictObject({
    name: z.literal('SGD').default('SGD'),
    /** Learning rate; default 1e-3 (torch.optim.SGD has no default). */
    lr: perGroup(positive()).default(1e-3),
    momentum: perGroup(z.number().min(0)).default(0),
    dampening: perGroup(z.number().min(0)).default(0),
    nesterov: z.boolean().default(false),
    ...common,
  }),
  Adam: z.strictObject({
    name: z.literal('Adam').default('Adam'),
    lr: perGroup(positive()).default(1e-3),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    eps: positive().default(1e-8),
    amsgrad: z.boolean().default(false),
    ...common,
  }),
  AdamW: z.strictObject({
    name: z.literal('AdamW').default('AdamW'),
    lr: perGroup(positive()).default(1e-3),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    eps: positive().default(1e-8),
    amsgrad: z.boolean().default(false),
    ...common,
    /** Decoupled weight decay; AdamW's default is 0.01. */
    weightDecay: perGroup(z.number().min(0)).default(0.01),
  }),
  RMSprop: z.strictObject({
    name: z.literal('RMSprop').default('RMSprop'),
    lr: perGroup(positive()).default(1e-2),
    alpha: z.number().min(0).max(1).default(0.99),
    eps: positive().default(1e-8),
    momentum: perGroup(z.number().min(0)).default(0),
    centered: z.boolean().default(false),
    ...common,
  }),
  Adagrad: z.strictObject({
    name: z.literal('Adagrad').default('Adagrad'),
    lr: perGroup(positive()).default(1e-2),
    lrDecay: z.number().min(0).default(0),
    initialAccumulatorValue: z.number().min(0).default(0),
    eps: positive().default(1e-10),
    ...common,
  }),
  Adadelta: z.strictObject({
    name: z.literal('Adadelta').default('Adadelta'),
    lr: perGroup(positive()).default(1),
    rho: z.number().min(0).max(1).default(0.9),
    eps: positive().default(1e-6),
    ...common,
  }),
} as const;

export type OptimizerName = keyof typeof SCHEMAS;
export type OptimizerConfig = {
  [K in OptimizerName]: z.output<(typeof SCHEMAS)[K]>;
}[OptimizerName];
export type SGDConfig = z.output<typeof SCHEMAS.SGD>;
export type AdamConfig = z.output<typeof SCHEMAS.Adam>;
export type AdamWConfig = z.output<typeof SCHEMAS.AdamW>;
export type RMSpropConfig = z.output<typeof SCHEMAS.RMSprop>;
export type AdagradConfig = z.output<typeof SCHEMAS.Adagrad>;
export type AdadeltaConfig = z.output<typeof SCHEMAS.Adadelta>;

export const OPTIMIZER_NAMES = Object.keys(SCHEMAS) as OptimizerName[];

/**
 * Builds an optimizer configuration from JSON (or a partial object with `name`), filling
 * PyTorch's defaults: `optimizerConfig({ name: 'Adam', lr: 1e-4 })`.
 */
export function optimizerConfig(json: unknown): OptimizerConfig {
  const name = (json as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || !(name in SCHEMAS)) {
    const suggestion = typeof name === 'string' ? closestName(name, OPTIMIZER_NAMES) : undefined;
    throw new UserError(
      `Unknown optimizer ${JSON.stringify(name)}.` +
        (suggestion ? ` Did you mean '${suggestion}'?` : '') +
        ` Available: ${OPTIMIZER_NAMES.join(', ')}.`,
    );
  }
  return parseConfig(`${name}Config`, SCHEMAS[name as OptimizerName], json) as OptimizerConfig;
}

export const SGDConfig = (options: Partial<Omit<SGDConfig, 'name'>> = {}) =>
  optimizerConfig({ ...options, name: 'SGD' }) as SGDConfig;
export const AdamConfig = (options: Partial<Omit<AdamConfig, 'name'>> = {}) =>
  optimizerConfig({ ...options, name: 'Adam' }) as AdamConfig;
export const AdamWConfig = (options: Partial<Omit<AdamWConfig, 'name'>> = {}) =>
  optimizerConfig({ ...options, name: 'AdamW' }) as AdamWConfig;
export const RMSpropConfig = (options: Partial<Omit<RMSpropConfig, 'name'>> = {}) =>
  optimizerConfig({ ...options, name: 'RMSprop' }) as RMSpropConfig;
export const AdagradConfig = (options: Partial<Omit<AdagradConfig, 'name'>> = {}) =>
  optimizerConfig({ ...options, name: 'Adagrad' }) as AdagradConfig;
export const AdadeltaConfig = (options: Partial<Omit<AdadeltaConfig, 'name'>> = {}) =>
  optimizerConfig({ ...options, name: 'Adadelta' }) as AdadeltaConfig;

/**
 * Resolves a per-group value for the parameter `paramName`: the longest sub-network prefix
 * that matches (`layer1` matches `layer1.0.conv1.weight`), else "ELSE". Throws when neither
 * matches, naming the parameter.
 */
export function valueForParam<T>(field: string, value: PerGroup<T>, paramName: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value as T;
  const groups = value as Record<string, T>;
  let best: string | undefined;
  for (const prefix of Object.keys(groups)) {
    if (prefix === 'ELSE') continue;
    const matches = paramName === prefix || paramName.startsWith(`${prefix}.`);
    if (matches && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  if (best !== undefined) return groups[best]!;
  if ('ELSE' in groups) return groups.ELSE!;
  throw new UserError(
    `Optimizer field '${field}' has no value for parameter '${paramName}': add its ` +
      `sub-network (${Object.keys(groups).join(', ')}) or an "ELSE" entry.`,
  );
}

/** True when `paramName` lies in a frozen sub-network. */
export function isFrozen(config: OptimizerConfig, paramName: string): boolean {
  return config.freeze.some((prefix) => paramName === prefix || paramName.startsWith(`${prefix}.`));
}
