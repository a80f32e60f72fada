// `clinicadl-webgpu interpret EXPERIMENT DATA... [--output DIR] [--target CLASS]` writes
// gradient saliency maps, |d output[target] / d input|, of a trained experiment on new images.
// It writes one NIfTI per image on the input image's grid, and saliency.tsv that lists them with
// the class explained and the prediction. For a model of patches or slices, each sample is
// explained with respect to its own input, for the image's voted class. The maps are put back
// into the image, overlaps averaged, and saliency.tsv also gives the number of samples.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Command } from 'commander';

import { formatTsv, type Row } from '../data/participants.js';
import { writeNifti } from '../data/nifti/node.js';
import type { LoadedExperiment } from '../experiment/load.js';
import { compileExperimentSaliency, imageSaliency, resolveTarget } from '../experiment/saliency.js';
import type { Writer } from './io.js';
import type { CommandContext } from './main.js';
import {
  addExperimentOptions,
  openExperimentRun,
  outputName,
  readRunImage,
  type ExperimentRunOptions,
} from './predict.js';

interface InterpretOptions extends ExperimentRunOptions {
  target?: string;
}

/** Registers `interpret`. */
export function registerInterpret(program: Command, context: CommandContext): void {
  const command = program
    .command('interpret')
    .description(
      'write gradient saliency maps |d output[target] / d input| of a trained experiment on ' +
        "new images, as NIfTI files on each input image's grid",
    );
  addExperimentOptions(command, 'interpret')
    .option(
      '--target <class>',
      'class (name or index) or segmentation channel to explain (default: the predicted ' +
        'class of each image, or for segmentation the channel with the largest summed score)',
    )
    .action(async (experiment: string, data: string[], options: InterpretOptions) => {
      await runInterpret(experiment, data, options, context.io.stdout);
    });
}

function className(experiment: LoadedExperiment, index: number): string {
  return experiment.preprocessing?.classes[index] ?? String(index);
}

/** Runs interpret and prints where the maps are. */
export async function runInterpret(
  experimentPath: string,
  data: readonly string[],
  options: InterpretOptions,
  out: Writer,
): Promise<void> {
  const start = performance.now();
  const run = await openExperimentRun(experimentPath, data, options, 'interpret');
  const { experiment, images, output, kernels, gpu } = run;
  try {
    const target =
      options.target === undefined ? undefined : resolveTarget(experiment, options.target);
    const program = await compileExperimentSaliency(gpu, experiment);
    out.write(
      `Saliency maps of ${images.length} images with ${experiment.task} model ` +
        `${experiment.weightsPath} of ${experiment.files.name}\n`,
    );
    const rows: Row[] = [];
    for (const image of images) {
      const volume = await readRunImage(run, image);
      const result = await imageSaliency(kernels, experiment, program, volume, target);
      const file = outputName(image, 'saliency');
      await writeNifti(join(output, file), result.volume, { datatype: 'float32' });
      const row: Row = {
        participant_id: image.participant_id,
        session_id: image.session_id,
        target: className(experiment, result.target),
      };
      if (result.probabilities !== undefined) {
        const predicted = result.probabilities.indexOf(Math.max(...result.probabilities));
        row.predicted_label = className(experiment, predicted);
        row.target_probability = String(result.probabilities[result.target]);
      }
      if ((result.samples ?? 1) > 1) row.samples = String(result.samples);
      row.saliency_max = String(maxOf(result.volume.data));
      row.saliency_path = file;
      rows.push(row);
    }
    const tsvPath = join(output, 'saliency.tsv');
    await writeFile(tsvPath, formatTsv(Object.keys(rows[0] ?? {}), rows));
    out.write(`Saliency maps: ${output} (listed in saliency.tsv)\n`);
    out.write(`Done in ${((performance.now() - start) / 1000).toFixed(1)} s.\n`);
  } finally {
    await run.close();
  }
}

function maxOf(values: Float32Array): number {
  let max = 0;
  for (const value of values) if (value > max) max = value;
  return max;
}
