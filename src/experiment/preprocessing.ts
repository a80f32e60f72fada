// The data side of an experiment as inference needs it: the transforms, the extraction, the
// label and its classes. experiment.json records it under 'data'; folders written before the
// CLI passed it there have it only in train-config.json. preprocessImage runs it on one volume
// exactly as the training loader did, without the augmentations.

import { parseTransformsConfig, type TransformsConfig } from '../data/dataset-config.js';
import { extractVolumes, sampleShape } from '../data/sample.js';
import { runPipeline, type PreprocessStep } from '../data/transforms/pipeline.js';
import { reorient } from '../data/transforms/reorient.js';
import type { Volume } from '../data/volume.js';
import type { ImageBackend } from '../data/wasm/backend.js';
import { UserError } from '../errors.js';
import type { ExperimentFiles } from './files.js';

export interface Preprocessing {
  /** Image transforms, extraction and sample transforms; augmentations are dropped. */
  transforms: TransformsConfig;
  /** Column of participants.tsv holding the class at training; undefined for reconstruction. */
  label?: string;
  /** Class names in index order; empty when none were recorded. */
  classes: string[];
  /** The file the section was read from: 'experiment.json' or 'train-config.json'. */
  source: string;
  /**
   * Largest image read, in bytes of float32 (4 per voxel), as set in the training data
   * configuration (data.maxBytes); undefined when it was not set.
   */
  maxBytes?: number;
  /** The training images' grid on disk; undefined for folders that did not record it. */
  grid?: TrainingGrid;
}

/** The voxel grid of the training images as experiment.json records it (data.grid). */
export interface TrainingGrid {
  /** Axis codes of the voxel axes, as nibabel's aff2axcodes gives them, such as 'RAS'. */
  axisCodes: string;
  /** Voxel sizes in mm along the voxel axes. */
  voxelSizeMm: number[];
}

/** Reads the data section: experiment.json's, else train-config.json's; undefined if neither. */
export async function readPreprocessing(
  files: ExperimentFiles,
  experiment: Record<string, unknown>,
): Promise<Preprocessing | undefined> {
  if (isRecord(experiment.data)) return parseDataSection(experiment.data, files, 'experiment.json');
  if (!files.has('train-config.json')) return undefined;
  let config: unknown;
  try {
    config = JSON.parse(await files.readText('train-config.json'));
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      `${files.name}: train-config.json is not valid JSON (${(error as Error).message}).`,
    );
  }
  const data = isRecord(config) ? config.data : undefined;
  return isRecord(data) ? parseDataSection(data, files, 'train-config.json') : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseDataSection(
  data: Record<string, unknown>,
  files: ExperimentFiles,
  source: string,
): Preprocessing {
  let transforms: TransformsConfig;
  try {
    transforms = parseTransformsConfig(data.transforms ?? {});
  } catch (error) {
    throw new UserError(`${files.name}/${source} data.transforms: ${(error as Error).message}`);
  }
  delete transforms.augmentation;
  const classes = Array.isArray(data.classes) ? data.classes.map(String) : [];
  const label = typeof data.label === 'string' ? data.label : undefined;
  const maxBytes = parseMaxBytes(data.maxBytes, files, source);
  const grid = parseGrid(data.grid);
  return {
    transforms,
    classes,
    source,
    ...(label !== undefined ? { label } : {}),
    ...(maxBytes !== undefined ? { maxBytes } : {}),
    ...(grid !== undefined ? { grid } : {}),
  };
}

/** Returns the recorded grid, or undefined when it is absent or not in the expected form. */
function parseGrid(value: unknown): TrainingGrid | undefined {
  if (!isRecord(value)) return undefined;
  const { axisCodes, voxelSizeMm } = value;
  if (typeof axisCodes !== 'string' || !/^[LRAPSI]{3}$/.test(axisCodes)) return undefined;
  if (!Array.isArray(voxelSizeMm) || voxelSizeMm.length !== 3) return undefined;
  if (!voxelSizeMm.every((size) => typeof size === 'number' && size > 0)) return undefined;
  return { axisCodes, voxelSizeMm: voxelSizeMm as number[] };
}

function parseMaxBytes(value: unknown, files: ExperimentFiles, source: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && value > 0) return value;
  throw new UserError(
    `${files.name}/${source} data.maxBytes is ${JSON.stringify(value)}; expected a number of ` +
      'bytes > 0. Correct it, or remove it to use the default limit.',
  );
}

/** One sample cut from a preprocessed image, as the network takes it. */
export interface PreprocessedSample {
  /** Channels-first data without a batch axis. */
  data: Float32Array;
  /** `[C, D, H, W]` for an image or patch, `[C, H, W]` for a slice. */
  shape: number[];
  /** The sample as a volume with its own affine (a patch or slice keeps its position). */
  volume: Volume;
}

export interface PreprocessedImage {
  /** The image after the image transforms: the grid the network's samples come from. */
  volume: Volume;
  samples: PreprocessedSample[];
}

/**
 * Runs the image transforms, the extraction and the sample transforms on `volume`. With a
 * recorded training grid, the image is first aligned to it (see alignToTrainingGrid).
 */
export function preprocessImage(
  backend: ImageBackend,
  volume: Volume,
  preprocessing: Pick<Preprocessing, 'transforms' | 'grid'>,
): PreprocessedImage {
  const { transforms } = preprocessing;
  const aligned = alignToTrainingGrid(backend, volume, preprocessing);
  const image = runPipeline(backend, aligned, transforms.image as PreprocessStep[]);
  const parts = extractVolumes(backend, image, transforms.extraction);
  const samples = parts.map((part) => {
    const sample = runPipeline(backend, part, transforms.sample as PreprocessStep[]);
    return {
      data: sample.data,
      shape: sampleShape(sample, transforms.extraction),
      volume: sample,
    };
  });
  return { volume: image, samples };
}

/** Relative difference of voxel sizes above which an image is taken to be on another grid. */
const SPACING_TOLERANCE = 0.01;

/**
 * Brings `volume` to the training images' voxel order when the transforms do not reorient:
 * a network trained on RAS images would otherwise see a flipped or permuted brain. Without a
 * resample step, an image whose voxel size differs from the training images' is rejected,
 * because the network would see the anatomy at another scale.
 */
export function alignToTrainingGrid(
  backend: ImageBackend,
  volume: Volume,
  preprocessing: Pick<Preprocessing, 'transforms' | 'grid'>,
): Volume {
  const { grid, transforms } = preprocessing;
  if (grid === undefined) return volume;
  const ops = new Set((transforms.image as PreprocessStep[]).map((step) => step.op));
  const aligned = ops.has('reorient') ? volume : reorient(backend, volume, grid.axisCodes);
  if (ops.has('resample')) return aligned;
  const spacing = aligned.spacing;
  const differs = spacing.some(
    (size, axis) => Math.abs(size - grid.voxelSizeMm[axis]!) > SPACING_TOLERANCE * size,
  );
  if (!differs) return aligned;
  const name = volume.header.source || 'the image';
  throw new UserError(
    `${name} has voxels of ${formatSizes(spacing)} mm (in ${grid.axisCodes} order), but the ` +
      `model was trained on images of ${formatSizes(grid.voxelSizeMm)} mm and its transforms ` +
      'do not resample. Resample the image to that voxel size first, or train again with a ' +
      'resample step in data.transforms.image.',
  );
}

function formatSizes(sizes: readonly number[]): string {
  return sizes.map((size) => Number(size.toFixed(3))).join(' x ');
}

/** Returns whether two volumes have the same grid: shape, and affine within 1e-6 mm. */
export function sameGrid(a: Volume, b: Volume): boolean {
  const shape = a.spatialShape.join() === b.spatialShape.join();
  return shape && a.affine.every((value, index) => Math.abs(value - b.affine[index]!) < 1e-6);
}
