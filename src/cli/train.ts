// `clinicadl-webgpu train CONFIG [--set key=value ...] [--output MAPS] [--epochs N] ...` trains
// the experiment that a JSON or TOML configuration file describes (see train-config.ts). It then
// evaluates the model on the held-out test split and writes the experiment folder.
//
// The output folder is checked before any work (output.ts). A folder with an unfinished
// experiment is continued with --resume and replaced with --force. Ctrl-C stops training
// between two steps, so checkpoints/last stays complete, and --resume continues from it.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Command } from 'commander';

import { UserError } from '../errors.js';
import { TrainingInterrupted } from '../training/trainer.js';
import { runExperiment, type ExperimentResult } from './experiment.js';
import { integerIn } from './io.js';
import type { Writer } from './io.js';
import type { CommandContext } from './main.js';
import {
  inspectOutputFolder,
  prepareOutputFolder,
  removeExperiment,
  resumeCommand,
  savedCheckpoint,
} from './output.js';
import {
  applyOverrides,
  parseExperimentConfig,
  readConfigFile,
  type ExperimentConfig,
} from './train-config.js';

/** Exit status after Ctrl-C, as shells report a process ended by SIGINT (128 + 2). */
export const INTERRUPTED_STATUS = 130;

/**
 * Ends a command that Ctrl-C stopped after it saved its work and printed what it kept. The
 * program then exits with INTERRUPTED_STATUS and prints nothing more.
 */
export class CommandInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'CommandInterrupted';
  }
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Registers `train`. */
export function registerTrain(program: Command, context: CommandContext): void {
  program
    .command('train')
    .description(
      'train a network from a configuration file (JSON or TOML: data, network, loss, ' +
        'optimizer, trainer), evaluate it on the held-out test set and write the experiment ' +
        'folder with report.html',
    )
    .argument('<config>', 'configuration file, .json or .toml (see examples/)')
    .option(
      '--set <key=value>',
      'override a configuration key, such as trainer.epochs=5 or data.dataset=DIR; the value ' +
        'is JSON or a string (repeatable)',
      collect,
    )
    .option('--output <folder>', "experiment folder to write (default: the config's output)")
    .option('--dataset <folder>', 'dataset folder (sets data.dataset)')
    .option('--epochs <n>', 'number of epochs (sets trainer.epochs)', integerIn(1))
    .option('--batch-size <n>', 'samples per batch (sets trainer.batchSize)', integerIn(1))
    .option(
      '--seed <n>',
      'seed of initialisation and batch order (sets trainer.seed)',
      integerIn(0),
    )
    .option(
      '--resume',
      'continue the unfinished experiment in the output folder from its last checkpoint, ' +
        'with the same configuration',
      false,
    )
    .option(
      '--force',
      'write into a non-empty output folder: replace the experiment there, or write beside ' +
        'files that are not an experiment',
      false,
    )
    .action(async (path: string, options: Record<string, unknown>) => {
      const raw = applyOverrides(await readConfigFile(path), flagOverrides(options));
      const config = parseExperimentConfig(raw);
      const output = (options.output as string | undefined) ?? config.output;
      if (output === undefined) {
        throw new UserError(
          `No experiment folder: give --output FOLDER or set 'output' in ${path}.`,
        );
      }
      const flags = { resume: options.resume === true, force: options.force === true };
      const resume = await prepareTrainOutput(output, config, flags);
      context.io.stdout.write(`Experiment folder: ${output}\n`);
      await trainUntilInterrupted(config, output, resume, context.io.stdout);
    });
}

/**
 * Runs the experiment, stopping between two training steps on the first Ctrl-C (a second one
 * ends the process at once). After an interrupt, prints what was kept and how to resume, and
 * throws CommandInterrupted, which the program turns into INTERRUPTED_STATUS.
 */
async function trainUntilInterrupted(
  config: ExperimentConfig,
  output: string,
  resume: boolean,
  out: Writer,
): Promise<void> {
  const controller = new AbortController();
  const onInterrupt = () => {
    out.write(
      'Interrupt received: stopping after the current step. Press Ctrl-C again to quit at once.\n',
    );
    controller.abort();
  };
  process.once('SIGINT', onInterrupt);
  try {
    const result = await runExperiment(config, output, out, { resume, signal: controller.signal });
    printResult(result, out);
  } catch (error) {
    if (!(error instanceof TrainingInterrupted)) throw error;
    const saved = await savedCheckpoint(output);
    const when = error.epoch === null ? 'after training' : `during epoch ${error.epoch + 1}`;
    const checkpointNote = saved
      ? `kept the checkpoint after epoch ${saved.epoch + 1} of ${config.trainer.epochs}`
      : 'no checkpoint had been written yet, so --resume starts again at epoch 1';
    out.write(
      `Interrupted ${when}: ${checkpointNote} in ${output}. Resume with: ` +
        `${resumeCommand(process.argv.slice(2))}\n`,
    );
    throw new CommandInterrupted();
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

/** Returns the --set entries followed by the shorthand flags, written as entries too. */
function flagOverrides(options: Record<string, unknown>): string[] {
  const entries = [...((options.set as string[] | undefined) ?? [])];
  if (options.dataset !== undefined)
    entries.push(`data.dataset=${JSON.stringify(options.dataset)}`);
  if (options.epochs !== undefined) entries.push(`trainer.epochs=${options.epochs}`);
  if (options.batchSize !== undefined) entries.push(`trainer.batchSize=${options.batchSize}`);
  if (options.seed !== undefined) entries.push(`trainer.seed=${options.seed}`);
  return entries;
}

/** Prints the test metrics and where the report is. */
export function printResult(result: ExperimentResult, out: Writer): void {
  const epochs = result.history.length === 1 ? '1 epoch' : `${result.history.length} epochs`;
  out.write(`Test metrics (${epochs}, ${result.seconds.toFixed(1)} s):\n`);
  for (const [name, value] of Object.entries(result.test)) {
    if (typeof value === 'number') out.write(`  ${name.padEnd(18)} ${value.toFixed(4)}\n`);
  }
  out.write(`Report: ${result.reportPath}\n`);
}

/**
 * Checks the output folder before any work and applies --resume and --force. Returns whether
 * training resumes from a checkpoint. A folder that contains an experiment needs --resume (to
 * continue an unfinished one) or --force (to replace it).
 */
async function prepareTrainOutput(
  output: string,
  config: ExperimentConfig,
  flags: { resume: boolean; force: boolean },
): Promise<boolean> {
  if (flags.resume && flags.force) {
    throw new UserError(
      '--resume continues the experiment in the output folder and --force replaces it; pass ' +
        'only one of them.',
    );
  }
  const inputs = [{ name: 'dataset folder', path: config.data.dataset }];
  const contents = await inspectOutputFolder(output);
  if (flags.resume) return prepareResume(output, config, contents);
  if (contents === 'unfinished-experiment' && !flags.force) {
    const saved = await savedCheckpoint(output);
    const progress = saved
      ? `its last checkpoint is after epoch ${saved.epoch + 1}`
      : 'it has no checkpoint yet';
    throw new UserError(
      `The output folder ${output} contains an unfinished experiment (${progress}). Pass ` +
        '--resume to continue it, --force to start again there, or choose another folder.',
    );
  }
  if (contents === 'finished-experiment' && !flags.force) {
    throw new UserError(
      `The output folder ${output} contains a finished experiment (it has report.html). ` +
        'Choose another folder, or pass --force to replace it.',
    );
  }
  await prepareOutputFolder(output, { force: flags.force, allowExperiment: true, inputs });
  if (contents.endsWith('experiment')) await removeExperiment(output);
  return false;
}

/** Checks that `output` has an unfinished experiment of `config`; see prepareTrainOutput. */
async function prepareResume(
  output: string,
  config: ExperimentConfig,
  contents: Awaited<ReturnType<typeof inspectOutputFolder>>,
): Promise<boolean> {
  if (contents === 'finished-experiment') {
    throw new UserError(
      `The experiment in ${output} is finished (it has report.html), so there is nothing to ` +
        'resume. Pass --force instead of --resume to train it again.',
    );
  }
  if (contents !== 'unfinished-experiment') {
    throw new UserError(
      `The output folder ${output} contains no experiment to resume (no experiment.json). ` +
        'Run without --resume to start one.',
    );
  }
  await checkSameConfig(output, config);
  const inputs = [{ name: 'dataset folder', path: config.data.dataset }];
  await prepareOutputFolder(output, { allowExperiment: true, inputs });
  if ((await savedCheckpoint(output)) !== undefined) return true;
  // Killed before the first checkpoint: nothing to continue, so training starts again.
  await removeExperiment(output);
  return false;
}

/** Rejects a configuration that differs from the one the experiment was started with. */
async function checkSameConfig(output: string, config: ExperimentConfig): Promise<void> {
  const path = join(output, 'train-config.json');
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UserError(
      `Cannot resume the experiment in ${output}: ${path} is missing. Pass --force to start ` +
        'again there.',
    );
  });
  const { output: _savedOutput, ...saved } = JSON.parse(text) as Record<string, unknown>;
  const { output: _output, ...given } = JSON.parse(JSON.stringify(config)) as Record<
    string,
    unknown
  >;
  const differences = differingKeys(saved, given);
  if (differences.length > 0) {
    throw new UserError(
      `Cannot resume the experiment in ${output}: the configuration differs from its ` +
        `train-config.json at ${differences.slice(0, 5).join(', ')}. Resume with the same ` +
        'configuration and flags, or pass --force to start again.',
    );
  }
}

/** Returns the dotted keys at which two JSON values differ. */
export function differingKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isRecord = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isRecord(a) || !isRecord(b)) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(the whole file)'];
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((key) => differingKeys(a[key], b[key], prefix ? `${prefix}.${key}` : key));
}
