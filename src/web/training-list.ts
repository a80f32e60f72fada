// The page's list of training images. Each image keeps its class by name, so editing the
// Classes field never moves an image to another class. The numbers typed in the training
// fields are checked here before a request goes to the worker.

import { UserError } from '../errors.js';

/** One image added for training, with its class name (undefined until one is chosen). */
export interface TrainingImage {
  file: File;
  label: string | undefined;
}

/** A single-file NIfTI name, which the page can read on its own. */
const NIFTI_NAME = /\.nii(\.gz)?$/i;
/** The two halves of an Analyze 7.5 or NIfTI pair, which the page cannot read one at a time. */
const PAIR_NAME = /\.(hdr|img)(\.gz)?$/i;

/** Splits the Classes field into class names, dropping empty entries and repeats. */
export function parseClasses(text: string): string[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return [...new Set(names)];
}

/** Returns whether `name` is the .hdr or .img half of an Analyze 7.5 or NIfTI pair. */
export function isPairHalf(name: string): boolean {
  return PAIR_NAME.test(name);
}

/**
 * Returns an error for a file the page cannot read as one NIfTI image (by its name), or
 * undefined for a .nii or .nii.gz file.
 */
export function niftiNameError(name: string): UserError | undefined {
  if (NIFTI_NAME.test(name)) return undefined;
  if (isPairHalf(name)) {
    return new UserError(
      `${name} is one half of a .hdr/.img pair, and the page reads single-file NIfTI only: ` +
        'convert the pair to .nii (for example with nibabel or fslchfiletype).',
    );
  }
  return new UserError(
    `${name} is not a NIfTI file: the page reads .nii and .nii.gz images. Remove it or ` +
      'convert it to NIfTI.',
  );
}

/**
 * Adds `files` to `images`, each with a default class that alternates over `classes` (so a
 * pair of new files starts with both classes). Files that are not NIfTI are left out and
 * returned as errors.
 */
export function addImages(
  images: readonly TrainingImage[],
  files: readonly File[],
  classes: readonly string[],
): { images: TrainingImage[]; errors: UserError[] } {
  const added: TrainingImage[] = [...images];
  const errors: UserError[] = [];
  for (const file of files) {
    const error = niftiNameError(file.name);
    if (error !== undefined) {
      errors.push(error);
      continue;
    }
    const label = classes.length > 0 ? classes[added.length % classes.length] : undefined;
    added.push({ file, label });
  }
  return { images: added, errors };
}

/**
 * Keeps each image's class when the class list changes. An image whose class is no longer
 * listed loses its label, and its name is returned in `unlabelled`.
 */
export function relabelImages(
  images: readonly TrainingImage[],
  classes: readonly string[],
): { images: TrainingImage[]; unlabelled: string[] } {
  const unlabelled: string[] = [];
  const relabelled = images.map((image) => {
    if (image.label === undefined || classes.includes(image.label)) return image;
    unlabelled.push(image.file.name);
    return { file: image.file, label: undefined };
  });
  return { images: relabelled, unlabelled };
}

/** Returns the warning shown for images that lost their class, or '' when none did. */
export function unlabelledWarning(names: readonly string[], classes: readonly string[]): string {
  if (names.length === 0) return '';
  const list = classes.length > 0 ? classes.join(', ') : 'the classes typed above';
  return (
    `${names.join(', ')} lost ${names.length === 1 ? 'its class' : 'their classes'}, ` +
    `which is no longer in Classes: choose one of ${list}.`
  );
}

/**
 * Returns each image's class as its index in `classes`, the form the worker trains on; -1
 * for an image without a listed class, which the worker rejects by name.
 */
export function labelIndices(
  images: readonly TrainingImage[],
  classes: readonly string[],
): number[] {
  return images.map((image) => (image.label === undefined ? -1 : classes.indexOf(image.label)));
}

/**
 * Reads a number field of the training form. An empty field is reported as empty, because
 * Number('') is 0 and would be reported as an invalid value the user never typed.
 */
export function readNumberField(label: string, text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') {
    throw new UserError(`The ${label} field is empty: enter a number.`);
  }
  const value = Number(trimmed);
  if (!Number.isFinite(value)) {
    throw new UserError(`The ${label} field contains '${trimmed}', which is not a number.`);
  }
  return value;
}
