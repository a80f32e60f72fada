// `clinicadl-webgpu generate trivial | random | shepplogan <output-folder>`: writes a synthetic
// dataset laid out like BIDS (see src/data/generate). Option values are checked here, so a bad
// one is reported with its option name before any work starts.

import { availableParallelism } from 'node:os';

import { Option, type Command } from 'commander';

import {
  generateRandom,
  generateSheppLogan,
  generateTrivial,
  type DatasetSettings,
  type GenerateRuntime,
  type GenerationSummary,
} from '../data/generate/dataset.js';
import { DEFAULT_AAL_REGIONS } from '../data/generate/atlas.js';
import type { GridOptions } from '../data/generate/input.js';
import { RANDOM_DEFAULTS } from '../data/generate/random.js';
import { SHEPPLOGAN_DEFAULTS, SIZE_RANGE } from '../data/generate/shepplogan.js';
import { TRIVIAL_DEFAULTS } from '../data/generate/trivial.js';
import { loadImageKernels } from '../data/wasm/loader.js';
import { integerIn, nameList, numberIn, numberList } from './io.js';
import type { CommandContext } from './main.js';

/** Colin27 T1 (skull stripped) from Debian's mricron-data package. */
export const DEFAULT_INPUT = '/usr/share/mricron/templates/ch2bet.nii.gz';
/** The AAL atlas on the Colin27 grid, from the same package; its labels are in aal.nii.txt. */
export const DEFAULT_ATLAS = '/usr/share/mricron/templates/aal.nii.gz';

const DEFAULT_SUBJECTS_PER_CLASS = 50;
const DEFAULT_RANDOM_SUBJECTS = 100;
const DEFAULT_WORKERS = Math.max(1, availableParallelism() - 1);

/** Registers `generate` and its three subcommands. */
export function registerGenerate(program: Command, context: CommandContext): void {
  const generate = program
    .command('generate')
    .description('write a synthetic dataset (NIfTI images and participants.tsv, BIDS layout)');
  registerTrivial(generate, context);
  registerRandom(generate, context);
  registerSheppLogan(generate, context);
}

function registerTrivial(generate: Command, context: CommandContext): void {
  const d = TRIVIAL_DEFAULTS;
  const command = generate
    .command('trivial')
    .description(
      'CN subjects are the input T1 image and AD subjects the same image with atrophy in atlas ' +
        'regions; every subject gets a random small affine, intensity change and noise',
    )
    .argument('<output-folder>', 'folder to write the dataset to (created; must be empty)')
    .option('--input <file>', 'T1 image (NIfTI) every subject is made from', DEFAULT_INPUT)
    .option('--atlas <file>', 'label atlas (NIfTI) that defines the regions', DEFAULT_ATLAS)
    .option(
      '--atlas-labels <file>',
      "the atlas's label table, lines of 'value name' (default: <atlas>.txt beside the atlas)",
    )
    .option(
      '--regions <list>',
      'comma-separated regions to atrophy: names from the label table, patterns where * ' +
        "matches any characters ('*_L' is the left hemisphere in AAL), or voxel values " +
        `(default: ${DEFAULT_AAL_REGIONS.join(',')})`,
      nameList,
    )
    .option(
      '--subjects-per-class <n>',
      'subjects in each of CN and AD',
      integerIn(1),
      DEFAULT_SUBJECTS_PER_CLASS,
    )
    .option(
      '--atrophy-percent <percent>',
      'intensity removed at the core of the regions in AD subjects, in %',
      numberIn(0, 100),
      d.atrophyPercent,
    )
    .option(
      '--atrophy-sigma <mm>',
      "sigma of the Gaussian that smooths the atrophy's border, in mm",
      numberIn(0, 50),
      d.atrophySigmaMm,
    )
    .option(
      '--rotation <degrees>',
      'largest random rotation about each axis, in degrees',
      numberIn(0, 45),
      d.rotationDegrees,
    )
    .option(
      '--translation <mm>',
      'largest random translation along each axis, in mm',
      numberIn(0, 50),
      d.translationMm,
    )
    .option(
      '--scaling <fraction>',
      'largest random scaling along each axis, as a fraction (0.03 = +-3%)',
      numberIn(0, 0.5),
      d.scaling,
    )
    .option(
      '--intensity-change <c>',
      'largest coefficient of the random bias field: the global scale and each linear ' +
        'gradient reach exp(+-c)',
      numberIn(0, 1),
      d.intensityChange,
    )
    .option(
      '--noise-std <fraction>',
      "largest noise std, as a fraction of the image's 99th-percentile brain intensity; each " +
        'subject draws its std in [fraction / 2, fraction]',
      numberIn(0, 10),
      d.noiseStd,
    );
  addGridOptions(command);
  addCommonOptions(command).action(async (output: string, options: Record<string, unknown>) => {
    const settings = {
      ...d,
      ...commonSettings(output, options),
      ...gridSettings(options),
      input: options.input as string,
      atlas: options.atlas as string,
      subjectsPerClass: options.subjectsPerClass as number,
      atrophyPercent: options.atrophyPercent as number,
      atrophySigmaMm: options.atrophySigma as number,
      rotationDegrees: options.rotation as number,
      translationMm: options.translation as number,
      scaling: options.scaling as number,
      intensityChange: options.intensityChange as number,
      noiseStd: options.noiseStd as number,
      ...(options.atlasLabels ? { atlasLabels: options.atlasLabels as string } : {}),
      ...(options.regions ? { regions: options.regions as string[] } : {}),
    };
    await run(context, output, options, 'trivial', (runtime) => generateTrivial(settings, runtime));
  });
}

function registerRandom(generate: Command, context: CommandContext): void {
  const command = generate
    .command('random')
    .description(
      'every subject is the input image plus its own Gaussian noise, with random CN/AD labels ' +
        '(a dataset no classifier can learn: a sanity check)',
    )
    .argument('<output-folder>', 'folder to write the dataset to (created; must be empty)')
    .option('--input <file>', 'image (NIfTI) every subject is made from', DEFAULT_INPUT)
    .option(
      '--subjects <n>',
      'number of subjects, half CN and half AD',
      integerIn(2),
      DEFAULT_RANDOM_SUBJECTS,
    )
    .option(
      '--noise-std <fraction>',
      "noise std, as a fraction of the image's 99th-percentile brain intensity",
      numberIn(0, 10),
      RANDOM_DEFAULTS.noiseStd,
    );
  addGridOptions(command);
  addCommonOptions(command).action(async (output: string, options: Record<string, unknown>) => {
    const settings = {
      ...commonSettings(output, options),
      ...gridSettings(options),
      input: options.input as string,
      subjects: options.subjects as number,
      noiseStd: options.noiseStd as number,
    };
    await run(context, output, options, 'random', (runtime) => generateRandom(settings, runtime));
  });
}

function registerSheppLogan(generate: Command, context: CommandContext): void {
  const d = SHEPPLOGAN_DEFAULTS;
  const probabilities = numberList(3, numberIn(0, 1));
  const command = generate
    .command('shepplogan')
    .description(
      '3D Shepp-Logan phantoms in 3 subtypes: 0 normal, 1 small inferior regions, 2 small ' +
        'superior region; no input image',
    )
    .argument('<output-folder>', 'folder to write the dataset to (created; must be empty)')
    .option(
      '--size <voxels>',
      'voxels along each axis of the cube (1 mm voxels)',
      integerIn(SIZE_RANGE[0], SIZE_RANGE[1]),
      d.size,
    )
    .option(
      '--subjects-per-class <n>',
      'subjects in each of CN and AD',
      integerIn(1),
      DEFAULT_SUBJECTS_PER_CLASS,
    )
    .option(
      '--cn-subtypes <p0,p1,p2>',
      'probabilities of subtypes 0, 1 and 2 among CN subjects',
      probabilities,
      [...d.cnSubtypes],
    )
    .option(
      '--ad-subtypes <p0,p1,p2>',
      'probabilities of subtypes 0, 1 and 2 among AD subjects',
      probabilities,
      [...d.adSubtypes],
    )
    .option('--smoothing', 'smooth each phantom with a Gaussian of random sigma', d.smoothing);
  addCommonOptions(command, false).action(
    async (output: string, options: Record<string, unknown>) => {
      const settings = {
        ...commonSettings(output, options),
        size: options.size as number,
        subjectsPerClass: options.subjectsPerClass as number,
        cnSubtypes: options.cnSubtypes as [number, number, number],
        adSubtypes: options.adSubtypes as [number, number, number],
        smoothing: options.smoothing as boolean,
      };
      await run(context, output, options, 'shepplogan', (runtime) =>
        generateSheppLogan(settings, runtime),
      );
    },
  );
}

function addGridOptions(command: Command): Command {
  return command
    .option(
      '--resample <mm>',
      'resample the input to isotropic voxels of this size, in mm (2 gives 91x109x91 from ' +
        'Colin27; default: keep the input grid)',
      numberIn(0, 20, true),
    )
    .option(
      '--crop <shape>',
      "'brain' to crop to the brain's bounding box plus 2 voxels, or x,y,z voxels centred on " +
        'the brain (default: no crop)',
      parseCrop,
    );
}

function addCommonOptions(command: Command, workers = true): Command {
  command
    .option(
      '--seed <n>',
      'seed of every random draw; one seed gives the same dataset',
      integerIn(0, 2 ** 32 - 1),
      0,
    )
    .option('--force', 'replace a dataset generated before in the output folder', false);
  if (workers) {
    command.addOption(
      new Option('--workers <n>', 'worker threads for the images; 0 runs them in the main thread')
        .argParser(integerIn(0, 64))
        .default(DEFAULT_WORKERS, 'available cores - 1'),
    );
  }
  return command;
}

function parseCrop(text: string): GridOptions['crop'] {
  if (text.trim() === 'brain') return 'brain';
  return numberList(3, integerIn(1, 4096))(text) as [number, number, number];
}

function commonSettings(output: string, options: Record<string, unknown>): DatasetSettings {
  return { output, seed: options.seed as number, force: options.force as boolean };
}

function gridSettings(options: Record<string, unknown>): GridOptions {
  return {
    ...(options.resample !== undefined ? { resampleMm: options.resample as number } : {}),
    ...(options.crop !== undefined ? { crop: options.crop as GridOptions['crop'] } : {}),
  };
}

async function run(
  context: CommandContext,
  output: string,
  options: Record<string, unknown>,
  generator: string,
  generateDataset: (runtime: GenerateRuntime) => Promise<GenerationSummary>,
): Promise<void> {
  const { io } = context;
  const start = performance.now();
  const elapsed = () => ((performance.now() - start) / 1000).toFixed(1);
  let lastReport = 0;
  const runtime: GenerateRuntime = {
    backend: await loadImageKernels(),
    workers: (options.workers as number | undefined) ?? 0,
    version: context.version,
    ...(context.workerUrl ? { workerUrl: context.workerUrl } : {}),
    progress: (done, total) => {
      // About ten progress lines, whatever the number of subjects.
      if (done !== total && done - lastReport < Math.max(1, Math.ceil(total / 10))) return;
      lastReport = done;
      io.stdout.write(`  ${done}/${total} images written (${elapsed()} s)\n`);
    },
  };
  io.stdout.write(`Generating the ${generator} dataset in ${output}\n`);
  const summary = await generateDataset(runtime);
  io.stdout.write(formatSummary(summary, generator, elapsed()));
}

function formatSummary(summary: GenerationSummary, generator: string, seconds: string): string {
  return (
    `Wrote the ${generator} dataset to ${summary.output}: ${summary.subjects} subjects, ` +
    `${summary.shape.join('x')} voxels (${summary.datatype}), in ${seconds} s.\n` +
    `  participants.tsv, generation.json and dataset_description.json are in the folder.\n`
  );
}
