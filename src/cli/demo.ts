// `clinicadl-webgpu demo [--output FOLDER] [--quick]` is the job `npm start` runs. It generates
// a trivial dataset from the Colin27 T1 and the AAL atlas, then trains the catalogue CNN
// (dsl/cnn.net) with the configuration of examples/demo.json. It evaluates the CNN on the
// held-out test split and writes the experiment folder with report.html.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';

import type { Command } from 'commander';

import { generateTrivial } from '../data/generate/dataset.js';
import { TRIVIAL_DEFAULTS } from '../data/generate/trivial.js';
import { loadImageKernels } from '../data/wasm/loader.js';
import { catalogueFolder } from '../dsl/catalogue.js';
import { runExperiment } from './experiment.js';
import { DEFAULT_ATLAS, DEFAULT_INPUT } from './generate.js';
import type { CommandContext } from './main.js';
import { prepareOutputFolder, removeExperiment } from './output.js';
import { printResult } from './train.js';
import { applyOverrides, parseExperimentConfig, readConfigFile } from './train-config.js';

/** Dataset and run sizes of the demo, for the default run and for --quick. */
export interface DemoSizes {
  /** Voxel size of the generated images, in mm. */
  resampleMm: number;
  subjectsPerClass: number;
  /** Overrides of examples/demo.json, as --set entries. */
  overrides: string[];
}

// 5 mm voxels cropped to the brain (33x40x35) keep an epoch of 36 images at 5 to 11 s on the
// 2-core development machine, as measured, and the atrophy still spans several voxels.
export const DEMO_SIZES: DemoSizes = {
  resampleMm: 5,
  subjectsPerClass: 30,
  overrides: [],
};

// A network of one small layer on 8 mm images: the whole pipeline in seconds, for tests.
export const QUICK_SIZES: DemoSizes = {
  resampleMm: 8,
  subjectsPerClass: 4,
  overrides: [
    'trainer.epochs=2',
    'trainer.batchSize=2',
    'data.test=0.25',
    'data.validation=0.34',
    'network.settings.convArgs={"channels":[2],"padding":1,"poolingIndices":[0],"norm":null}',
  ],
};

/** Returns the path of this package's examples/demo.json, found beside the catalogue folder. */
export function demoConfigPath(): string {
  const path = join(dirname(catalogueFolder()), 'examples', 'demo.json');
  if (!existsSync(path)) throw new Error(`the demo configuration ${path} is missing`);
  return path;
}

/** Registers `demo`. */
export function registerDemo(program: Command, context: CommandContext): void {
  program
    .command('demo')
    .description(
      'the end-to-end job: generate a trivial dataset from Colin27, train the catalogue CNN ' +
        '(examples/demo.json), evaluate it on a held-out test split and write report.html',
    )
    .option('--output <folder>', 'folder for the dataset and the experiment', 'out/demo')
    .option('--quick', 'a tiny dataset, network and run (seconds), to check the setup', false)
    .action(async (options: { output: string; quick: boolean }) => {
      await runDemo(options.output, options.quick ? QUICK_SIZES : DEMO_SIZES, context);
    });
}

/** Generates the dataset into <output>/dataset and trains into <output>/maps. */
export async function runDemo(
  output: string,
  sizes: DemoSizes,
  context: CommandContext,
): Promise<void> {
  const { io } = context;
  const start = performance.now();
  const dataset = join(output, 'dataset');
  const maps = join(output, 'maps');
  // The demo replaces its own earlier experiment, but no other files in the folder.
  const contents = await prepareOutputFolder(maps, { allowExperiment: true });
  if (contents.endsWith('experiment')) await removeExperiment(maps);
  await generateDemoDataset(dataset, sizes, context);

  const path = demoConfigPath();
  const raw = applyOverrides(await readConfigFile(path), [
    ...sizes.overrides,
    `data.dataset=${JSON.stringify(dataset)}`,
  ]);
  io.stdout.write(`Training with ${path} into ${maps}\n`);
  const result = await runExperiment(parseExperimentConfig(raw), maps, io.stdout);
  printResult(result, io.stdout);
  io.stdout.write(`Demo finished in ${seconds(start)} s.\n`);
}

const seconds = (start: number) => ((performance.now() - start) / 1000).toFixed(1);

/** Writes the trivial dataset of the demo, replacing one written before. */
async function generateDemoDataset(
  dataset: string,
  sizes: DemoSizes,
  context: CommandContext,
): Promise<void> {
  const start = performance.now();
  context.io.stdout.write(
    `Generating a trivial dataset in ${dataset}: ${2 * sizes.subjectsPerClass} subjects from ` +
      `${DEFAULT_INPUT}, ${sizes.resampleMm} mm voxels\n`,
  );
  const settings = {
    ...TRIVIAL_DEFAULTS,
    output: dataset,
    seed: 0,
    force: true,
    input: DEFAULT_INPUT,
    atlas: DEFAULT_ATLAS,
    subjectsPerClass: sizes.subjectsPerClass,
    resampleMm: sizes.resampleMm,
    crop: 'brain' as const,
  };
  const summary = await generateTrivial(settings, {
    backend: await loadImageKernels(),
    workers: Math.max(1, availableParallelism() - 1),
    version: context.version,
    ...(context.workerUrl ? { workerUrl: context.workerUrl } : {}),
  });
  context.io.stdout.write(
    `  ${summary.subjects} images of ${summary.shape.join('x')} voxels (${seconds(start)} s)\n`,
  );
}
