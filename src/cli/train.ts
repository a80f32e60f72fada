// `clinicadl-webgpu train CONFIG [--set key=value ...] [--output MAPS] [--epochs N] ...` trains
// the experiment that a JSON or TOML configuration file describes (see train-config.ts). It then
// evaluates the model on the held-out test split and writes the experiment folder.

import type { Command } from 'commander';

import { UserError } from '../errors.js';
import { runExperiment, type ExperimentResult } from './experiment.js';
import { integerIn } from './io.js';
import type { Writer } from './io.js';
import type { CommandContext } from './main.js';
import { applyOverrides, parseExperimentConfig, readConfigFile } from './train-config.js';

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
    .action(async (path: string, options: Record<string, unknown>) => {
      const raw = applyOverrides(await readConfigFile(path), flagOverrides(options));
      const config = parseExperimentConfig(raw);
      const output = (options.output as string | undefined) ?? config.output;
      if (output === undefined) {
        throw new UserError(
          `No experiment folder: give --output FOLDER or set 'output' in ${path}.`,
        );
      }
      context.io.stdout.write(`Experiment folder: ${output}\n`);
      const result = await runExperiment(config, output, context.io.stdout);
      printResult(result, context.io.stdout);
    });
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
  out.write(`Test metrics (${result.history.length} epochs, ${result.seconds.toFixed(1)} s):\n`);
  for (const [name, value] of Object.entries(result.test)) {
    if (typeof value === 'number') out.write(`  ${name.padEnd(18)} ${value.toFixed(4)}\n`);
  }
  out.write(`Report: ${result.reportPath}\n`);
}
