// The configuration file of `train` is one JSON or TOML file with the whole experiment: data,
// network, loss, optimizer and trainer settings. It is read, overridden by `--set key=value`
// flags and checked section by section, so each error names the section, key and expected type.
// Relative paths in it are relative to the working directory.

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';

import { parseConfig } from '../config.js';
import { transformsSchema } from '../data/dataset-config.js';
import { UserError } from '../errors.js';
import { trainerConfig, type TrainerConfig } from '../training/trainer-config.js';

const fraction = z.number().gt(0).lt(1);

/** The data section: the dataset folder, the label, the transforms and the splits. */
export const dataSchema = z.strictObject({
  /** Dataset folder: participants.tsv and sub-X/ses-Y/anat images (as `generate` writes). */
  dataset: z.string().min(1),
  /** Column of participants.tsv holding the class; none for reconstruction. */
  label: z.string().min(1).optional(),
  /** Class names in index order (the last is the positive class); default sorted values. */
  classes: z.array(z.string().min(1)).min(2).optional(),
  /** Image transforms; default a z-score of each whole image. */
  transforms: transformsSchema.default({
    image: [{ op: 'zScore' }],
    extraction: { mode: 'image' },
    sample: [],
  }),
  /** Fraction of participants held out for the test set; default 0.2. */
  test: fraction.default(0.2),
  /** Fraction of the remaining participants used for validation; default 0.2. */
  validation: fraction.default(0.2),
  /** Seed of the splits; default 0. */
  splitSeed: z.number().int().min(0).default(0),
  /** Preprocessing worker threads; 0 runs them in the main thread. Default 0. */
  workers: z.number().int().min(0).max(64).default(0),
  /**
   * Largest image read, in bytes of float32 (4 per voxel); default the NIfTI reader's 2^31
   * (2 GiB). Recorded in experiment.json, so predict and interpret apply it too.
   */
  maxBytes: z.number().positive().optional(),
});
export type DataConfig = z.output<typeof dataSchema>;

const jsonValue: z.ZodType<unknown> = z.unknown();

/** The network: a catalogue name with its settings, or a .net file. */
export const networkSchema = z.strictObject({
  /** Network name: in the catalogue (CNN, ResNet18, ...) or in netFile. */
  name: z.string().min(1).optional(),
  /** Path of a .net file; default the catalogue file declaring `name`. */
  netFile: z.string().min(1).optional(),
  /** Parameter values, such as { numOutputs: 2 }; inShape defaults to the image's shape. */
  settings: z.record(z.string(), jsonValue).default({}),
});
export type NetworkSection = z.output<typeof networkSchema>;

const namedConfig = z.looseObject({ name: z.string().min(1) });

const sectionsSchema = z.strictObject({
  /** 'SupervisedModel' (classification) or 'ReconstructionModel'; default SupervisedModel. */
  model: z.enum(['SupervisedModel', 'ReconstructionModel']).default('SupervisedModel'),
  data: z.looseObject({}),
  network: z.looseObject({}),
  /** Loss JSON; default CrossEntropyLoss, or MSELoss for reconstruction. */
  loss: namedConfig.optional(),
  /** Optimizer JSON; default Adam with lr 0.001. */
  optimizer: namedConfig.default({ name: 'Adam', lr: 0.001 }),
  trainer: z.looseObject({}).default({}),
  /** Experiment folder; the --output flag overrides it. */
  output: z.string().min(1).optional(),
});

export interface ExperimentConfig {
  model: 'SupervisedModel' | 'ReconstructionModel';
  data: DataConfig;
  network: NetworkSection;
  loss: { name: string; [key: string]: unknown };
  optimizer: { name: string; [key: string]: unknown };
  trainer: TrainerConfig;
  output?: string;
}

/** Reads a JSON (.json) or TOML (.toml) configuration file into a plain object. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(
      `Cannot read the configuration file '${path}' (${error.code ?? error.message}); ` +
        'give the path of a .json or .toml file.',
    );
  });
  const kind = extname(path).toLowerCase();
  try {
    if (kind === '.toml') return parseToml(text) as Record<string, unknown>;
    if (kind === '.json') return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UserError(`${path} is not valid ${kind.slice(1).toUpperCase()}: ${oneLine(error)}`);
  }
  throw new UserError(
    `The configuration file '${path}' must end in .json or .toml, got '${kind || 'no extension'}'.`,
  );
}

function oneLine(error: unknown): string {
  return String((error as Error).message ?? error)
    .split('\n')[0]!
    .trim();
}

/**
 * Applies `key.path=value` overrides: the value is read as JSON when it parses (numbers,
 * booleans, lists), else taken as a string. Missing sections are created.
 */
export function applyOverrides(
  config: Record<string, unknown>,
  entries: readonly string[],
): Record<string, unknown> {
  const result = structuredClone(config);
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    const path = equals > 0 ? entry.slice(0, equals).trim().split('.') : [];
    if (path.length === 0 || path.some((key) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))) {
      throw new UserError(
        `Invalid --set '${entry}': write key=value with a dotted key, such as trainer.epochs=5.`,
      );
    }
    let target = result;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      if (
        next !== undefined &&
        (typeof next !== 'object' || next === null || Array.isArray(next))
      ) {
        throw new UserError(`Invalid --set '${entry}': '${key}' is not a section of the config.`);
      }
      target = (target[key] ??= {}) as Record<string, unknown>;
    }
    target[path.at(-1)!] = parseValue(entry.slice(equals + 1));
  }
  return result;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Checks a whole configuration object, filling the defaults. */
export function parseExperimentConfig(input: unknown): ExperimentConfig {
  const sections = parseConfig('TrainConfig', sectionsSchema, input);
  const data = parseConfig('TrainConfig.data', dataSchema, sections.data);
  const network = parseConfig('TrainConfig.network', networkSchema, sections.network);
  if (network.name === undefined && network.netFile === undefined) {
    throw new UserError(
      'TrainConfig.network needs name (a catalogue network such as CNN) or netFile (a .net ' +
        'file path); both are missing.',
    );
  }
  const supervised = sections.model === 'SupervisedModel';
  if (supervised && data.label === undefined) {
    throw new UserError(
      'TrainConfig.data.label: expected string (the class column of participants.tsv), got ' +
        'nothing; a SupervisedModel needs a label.',
    );
  }
  const loss = sections.loss ?? { name: supervised ? 'CrossEntropyLoss' : 'MSELoss' };
  const trainer = trainerConfig(sections.trainer);
  return {
    model: sections.model,
    data,
    network,
    loss,
    optimizer: sections.optimizer,
    trainer,
    ...(sections.output !== undefined ? { output: sections.output } : {}),
  };
}
