// Configuration of a dataset, as plain JSON: where the table and the images are, which columns
// become which sample fields, how samples are extracted, and the transforms. Each part parses
// with a strict zod schema that fills the defaults, and a parsed configuration written with
// JSON.stringify parses back to the same value.

import { z } from 'zod';
import { parseConfig } from '../config.js';

const positiveInt = () => z.number().int().positive();
const threeSizes = () =>
  z.union([positiveInt(), z.tuple([positiveInt(), positiveInt(), positiveInt()])]);
const nonNegative = () => z.number().min(0);

// ---- Image locations ----

const bidsSource = z.strictObject({
  layout: z.literal('bids'),
  /**
   * Folder of the dataset. An image is at
   * <root>/sub-X/ses-Y/<datatype>/sub-X_ses-Y[_entities]_<suffix><extension>.
   */
  root: z.string().min(1),
  /** BIDS datatype folder; default 'anat'. */
  datatype: z.string().min(1).default('anat'),
  /** BIDS suffix of the image; default 'T1w'. */
  suffix: z.string().min(1).default('T1w'),
  /** Extra entities between the session and the suffix, such as 'acq-MPRAGE'; default none. */
  entities: z.string().default(''),
  /** File extension; default '.nii.gz'. */
  extension: z.string().min(1).default('.nii.gz'),
});

const capsSource = z.strictObject({
  layout: z.literal('caps'),
  /** Folder of the CAPS dataset; images are under <root>/subjects/<participant>/<session>/. */
  root: z.string().min(1),
  /**
   * Path of the image below the session folder, with {participant_id} and {session_id}
   * replaced, such as 't1_linear/{participant_id}_{session_id}_T1w.nii.gz'.
   */
  pattern: z.string().min(1),
});

const columnSource = z.strictObject({
  layout: z.literal('column'),
  /** Table column holding each image's path; default 'image_path'. */
  column: z.string().min(1).default('image_path'),
  /** Folder that relative paths start from; default the table's folder. */
  root: z.string().optional(),
});

/** Where a field's image files are: a BIDS or CAPS folder, or a path column of the table. */
export const imageSourceSchema = z.discriminatedUnion('layout', [
  bidsSource,
  capsSource,
  columnSource,
]);
export type ImageSource = z.output<typeof imageSourceSchema>;

// ---- Labels ----

/** A label field read from a table column. */
export const labelSchema = z.strictObject({
  /** Table column; default the field's name. */
  column: z.string().min(1).optional(),
  /** 'class' (an index into `classes`, int32) or 'float' (regression); default 'class'. */
  kind: z.enum(['class', 'float']).default('class'),
  /** Class names in index order; default the column's distinct values, sorted. */
  classes: z.array(z.string().min(1)).min(1).optional(),
});
export type LabelConfig = z.output<typeof labelSchema>;

// ---- Extraction ----

export const extractionSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('image') }),
  z.strictObject({
    mode: z.literal('patch'),
    /** Patch size in voxels, one number or [x, y, z]. */
    patchSize: threeSizes(),
    /** Distance between patch starts in voxels; default the patch size (no overlap). */
    stride: threeSizes().optional(),
  }),
  z.strictObject({
    mode: z.literal('slice'),
    /** Voxel axis the slices are perpendicular to: 0 (x), 1 (y) or 2 (z); default 2. */
    axis: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(2),
    /** Slices left out at each end of the axis; default 0. */
    discarded: z.number().int().min(0).default(0),
  }),
]);
export type ExtractionConfig = z.output<typeof extractionSchema>;

// ---- Transforms ----

const spacing = z.union([z.number().positive(), z.array(z.number().positive()).length(3)]);
const constant = z.enum(['error', 'zero']).optional();

/** One deterministic preprocessing step, as src/data/transforms/pipeline.ts runs it. */
export const stepSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('reorient'), target: z.string().length(3).optional() }),
  z.strictObject({
    op: z.literal('resample'),
    spacing,
    interpolation: z.enum(['linear', 'nearest']).optional(),
  }),
  z.strictObject({
    op: z.literal('cropOrPad'),
    shape: z.array(positiveInt()).length(3),
    fill: z.number().optional(),
  }),
  z.strictObject({ op: z.literal('zScore'), constant }),
  z.strictObject({ op: z.literal('minMax'), constant }),
  z.strictObject({
    op: z.literal('clipPercentiles'),
    lower: z.number().min(0).max(100).optional(),
    upper: z.number().min(0).max(100).optional(),
  }),
  z.strictObject({ op: z.literal('smooth'), sigmaMm: spacing }),
]);
export type StepConfig = z.output<typeof stepSchema>;

/** Ranges of the seeded augmentations (see randomAugment); an absent field turns one off. */
export const augmentationSchema = z.strictObject({
  flip: z
    .strictObject({
      probability: z.number().min(0).max(1),
      axes: z.array(z.union([z.literal(0), z.literal(1), z.literal(2)])).optional(),
    })
    .optional(),
  noise: z.strictObject({ min: nonNegative(), max: nonNegative() }).optional(),
  gamma: z.strictObject({ logRange: nonNegative() }).optional(),
  biasField: z
    .strictObject({ order: z.number().int().min(0).max(6), coefficient: nonNegative() })
    .optional(),
  affine: z
    .strictObject({
      degrees: nonNegative(),
      scale: z.number().min(0).lt(1),
      translationMm: nonNegative(),
    })
    .optional(),
});
export type AugmentationConfig = z.output<typeof augmentationSchema>;

/**
 * The transforms in the order they run: image transforms on each whole image, extraction,
 * sample transforms on each patch or slice, then augmentations (training only).
 */
export const transformsSchema = z.strictObject({
  image: z.array(stepSchema).default([]),
  extraction: extractionSchema.default({ mode: 'image' }),
  sample: z.array(stepSchema).default([]),
  /** Seeded per epoch and sample; default none. */
  augmentation: augmentationSchema.optional(),
});
export type TransformsConfig = z.output<typeof transformsSchema>;

// ---- Dataset ----

export const datasetSchema = z.strictObject({
  /** TSV with participant_id, session_id and the label columns, one row per image. */
  tsv: z.string().min(1),
  /** Location of the 'image' field's files. */
  image: imageSourceSchema,
  /** Label fields by name, each from a column; default none (reconstruction). */
  labels: z.record(z.string().min(1), labelSchema).default({}),
  /** Mask fields by name (segmentation targets), each with its own location; default none. */
  masks: z.record(z.string().min(1), imageSourceSchema).default({}),
  /** The field a supervised model trains on; it must be a label or a mask. Default none. */
  labelKey: z.string().min(1).optional(),
  transforms: transformsSchema.default({ image: [], extraction: { mode: 'image' }, sample: [] }),
  /**
   * Largest image the loader decodes, in bytes of float32 (4 per voxel); default the NIfTI
   * reader's 2^31 (2 GiB). Each file's header is checked before its voxels are read.
   */
  maxBytes: z.number().positive().optional(),
});
export type DatasetConfig = z.output<typeof datasetSchema>;
export type DatasetConfigInput = z.input<typeof datasetSchema>;

/** Parses a dataset configuration, filling defaults; throws a UserError naming each problem. */
export function parseDatasetConfig(input: unknown): DatasetConfig {
  return parseConfig('DatasetConfig', datasetSchema, input);
}

/** Parses a transforms configuration, filling defaults. */
export function parseTransformsConfig(input: unknown): TransformsConfig {
  return parseConfig('TransformsConfig', transformsSchema, input);
}
