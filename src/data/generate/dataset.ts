// The three generators end to end in Node: read the inputs, make the templates, run every
// subject's pipeline and write the dataset (see write.ts for the layout).

import { readFile } from 'node:fs/promises';

import { UserError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { readNifti } from '../nifti/node.js';
import type { Volume } from '../volume.js';
import type { ImageBackend } from '../wasm/backend.js';
import { DEFAULT_AAL_REGIONS, parseLabelTable, resolveRegions, type AtlasLabel } from './atlas.js';
import { atlasOnGrid, prepareImage, referenceIntensity, type GridOptions } from './input.js';
import { randomSubjectSteps, type RandomOptions } from './random.js';
import { runSubjectJobs, type SubjectJob } from './run.js';
import {
  checkSheppLoganOptions,
  drawSubtypes,
  sheppLoganPhantom,
  type SheppLoganOptions,
} from './shepplogan.js';
import {
  alternatingDiagnoses,
  checkSeed,
  createSubjects,
  shuffledDiagnoses,
  type SubjectRecord,
} from './subjects.js';
import {
  checkTrivialOptions,
  trivialAugmentation,
  trivialSubjectSteps,
  trivialTemplates,
  type TrivialOptions,
} from './trivial.js';
import {
  prepareOutputFolder,
  storedDatatype,
  writeDatasetTables,
  writeSubjectImage,
  type GenerationRecord,
  type StoredDatatype,
} from './write.js';

const log = createLogger('generate');

/** Runtime of a generator: the backend, the workers and the progress callback. */
export interface GenerateRuntime {
  backend: ImageBackend;
  /** Worker threads for the per-subject pipelines; 0 runs them in the calling thread. */
  workers: number;
  workerUrl?: URL;
  /** Version of the program, recorded in the dataset's JSON files. */
  version: string;
  /** Called after each image is written. */
  progress?: (done: number, total: number) => void;
}

/** Settings every generator shares. */
export interface DatasetSettings {
  output: string;
  seed: number;
  /** Replace a dataset generated in `output` before. */
  force: boolean;
}

export interface TrivialSettings extends DatasetSettings, TrivialOptions, GridOptions {
  input: string;
  atlas: string;
  /** The atlas's label table; default the .txt file beside the atlas, when there is one. */
  atlasLabels?: string;
  /** Region names or voxel values; default DEFAULT_AAL_REGIONS. */
  regions?: string[];
  subjectsPerClass: number;
}

export interface RandomSettings extends DatasetSettings, RandomOptions, GridOptions {
  input: string;
  subjects: number;
}

export interface SheppLoganSettings extends DatasetSettings, SheppLoganOptions {
  subjectsPerClass: number;
}

/** Summary of a finished run. */
export interface GenerationSummary {
  output: string;
  subjects: number;
  shape: number[];
  datatype: StoredDatatype;
}

/** Generates the trivial dataset (see trivial.ts) into settings.output. */
export async function generateTrivial(
  settings: TrivialSettings,
  runtime: GenerateRuntime,
): Promise<GenerationSummary> {
  checkTrivialOptions(settings);
  const subjects = createSubjects(alternatingDiagnoses(settings.subjectsPerClass), settings.seed);
  const { backend } = runtime;

  const [rawImage, rawAtlas, table] = await Promise.all([
    readNifti(settings.input),
    readNifti(settings.atlas),
    readLabelTable(settings),
  ]);
  const regions = chooseRegions(settings, table);
  const image = prepareImage(backend, rawImage, settings);
  const atlas = atlasOnGrid(backend, rawAtlas, image);
  const templates = trivialTemplates(backend, image, atlas, regions, settings);
  const augmentation = trivialAugmentation(settings, templates.noiseStdMax);
  log.info(`atrophy regions: ${regions.map((region) => region.name).join(', ')}`);

  const jobs = subjects.map((subject) => ({
    subject,
    name: subject.participantId,
    input: templates[subject.diagnosis],
    steps: trivialSubjectSteps(subject, augmentation),
  }));

  const { regions: _, ...parameters } = settings;
  const datatype = storedDatatype(rawImage);
  await writeDataset(settings, runtime, subjects, pipelines(jobs, runtime), datatype, {
    generator: 'trivial',
    parameters: { ...parameters, regions: regions.map((region) => region.name) },
    derived: {
      regionValues: regions.map((region) => region.value),
      referenceIntensity: templates.referenceIntensity,
      noiseStdRange: [augmentation.noise!.min, augmentation.noise!.max],
      shape: image.spatialShape,
      spacingMm: image.spacing,
    },
  });
  return summary(settings, subjects, image, datatype);
}

/** Generates the random dataset (see random.ts) into settings.output. */
export async function generateRandom(
  settings: RandomSettings,
  runtime: GenerateRuntime,
): Promise<GenerationSummary> {
  checkSeed(settings.seed);
  const diagnoses = shuffledDiagnoses(settings.subjects, settings.seed);
  const subjects = createSubjects(diagnoses, settings.seed);
  const rawImage = await readNifti(settings.input);
  const image = prepareImage(runtime.backend, rawImage, settings);
  const reference = referenceIntensity(runtime.backend, image);
  const noiseStd = settings.noiseStd * reference;
  const jobs = subjects.map((subject) => ({
    subject,
    name: subject.participantId,
    input: image,
    steps: randomSubjectSteps(subject, noiseStd),
  }));
  const datatype = storedDatatype(rawImage);
  await writeDataset(settings, runtime, subjects, pipelines(jobs, runtime), datatype, {
    generator: 'random',
    parameters: { ...settings },
    derived: { referenceIntensity: reference, noiseStd, shape: image.spatialShape },
  });
  return summary(settings, subjects, image, datatype);
}

function summary(
  settings: DatasetSettings,
  subjects: readonly SubjectRecord[],
  image: Volume,
  datatype: StoredDatatype,
): GenerationSummary {
  return {
    output: settings.output,
    subjects: subjects.length,
    shape: [...image.spatialShape],
    datatype,
  };
}

/** Generates the Shepp-Logan dataset (see shepplogan.ts) into settings.output. */
export async function generateSheppLogan(
  settings: SheppLoganSettings,
  runtime: GenerateRuntime,
): Promise<GenerationSummary> {
  checkSheppLoganOptions(settings);
  const diagnoses = alternatingDiagnoses(settings.subjectsPerClass);
  const subtypes = drawSubtypes(diagnoses, settings, settings.seed);
  const subjects = createSubjects(diagnoses, settings.seed).map((subject, index) => ({
    ...subject,
    subtype: subtypes[index]!,
  }));
  // Phantoms are cheap to draw, so each is made here when its turn comes, without workers.
  let shape: number[] = [];
  const produce = async (write: WriteImage) => {
    for (const subject of subjects) {
      const phantom = sheppLoganPhantom(runtime.backend, subject.subtype, subject.seed, settings);
      shape = [...phantom.spatialShape];
      await write(subject, phantom);
    }
  };
  await writeDataset(settings, runtime, subjects, produce, 'float32', {
    generator: 'shepplogan',
    parameters: { ...settings },
    derived: { shape: [settings.size, settings.size, settings.size] },
  });
  return { output: settings.output, subjects: subjects.length, shape, datatype: 'float32' };
}

type WriteImage = (subject: SubjectRecord, volume: Volume) => Promise<void>;

/** Returns a producer that runs `jobs` through runSubjectJobs. */
function pipelines(jobs: SubjectJob<SubjectRecord>[], runtime: GenerateRuntime) {
  return (write: WriteImage) => runSubjectJobs(jobs, runtime, write);
}

async function writeDataset(
  settings: DatasetSettings,
  runtime: GenerateRuntime,
  subjects: SubjectRecord[],
  produce: (write: WriteImage) => Promise<void>,
  datatype: StoredDatatype,
  record: Omit<GenerationRecord, 'version' | 'seed'>,
): Promise<void> {
  await prepareOutputFolder(settings.output, settings.force);
  let done = 0;
  await produce(async (subject, volume) => {
    await writeSubjectImage(settings.output, subject, volume, datatype);
    runtime.progress?.(++done, subjects.length);
  });
  await writeDatasetTables(settings.output, subjects, {
    ...record,
    version: runtime.version,
    seed: settings.seed,
    derived: { ...record.derived, datatype },
  });
}

/** Reads the atlas's label table: the given file, else `<atlas>.txt` or `<atlas stem>.txt`. */
async function readLabelTable(settings: TrivialSettings): Promise<AtlasLabel[] | null> {
  const candidates =
    settings.atlasLabels !== undefined
      ? [settings.atlasLabels]
      : [
          settings.atlas.replace(/\.gz$/i, '') + '.txt',
          settings.atlas.replace(/\.nii(\.gz)?$/i, '') + '.txt',
        ];
  for (const path of candidates) {
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' && settings.atlasLabels === undefined) return null;
      throw new UserError(`Atlas label table ${path} cannot be read: ${error.message}`);
    });
    if (text !== null) return parseLabelTable(text, path);
  }
  return null;
}

function chooseRegions(settings: TrivialSettings, table: AtlasLabel[] | null): AtlasLabel[] {
  if (settings.regions !== undefined)
    return resolveRegions(settings.regions, table, settings.atlas);
  if (table === null) {
    throw new UserError(
      `The atlas ${settings.atlas} has no label table beside it, so the default AAL regions ` +
        'cannot be found in it; give --regions as voxel values, or the table with --atlas-labels.',
    );
  }
  const missing = DEFAULT_AAL_REGIONS.find((name) => !table.some((label) => label.name === name));
  if (missing !== undefined) {
    throw new UserError(
      `The label table of ${settings.atlas} has no region '${missing}', one of the default ` +
        'AAL regions; give the regions of this atlas with --regions.',
    );
  }
  return resolveRegions(DEFAULT_AAL_REGIONS, table, settings.atlas);
}
