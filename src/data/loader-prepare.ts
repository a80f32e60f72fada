// The loader's per-image work: preprocess an image and its masks, cut the samples, run the
// sample transforms, and cache the result on disk. In training it also augments each sample.

import { TensorCache, type CachedSample } from './cache.js';
import type { ImageRecord } from './dataset.js';
import type { TransformsConfig } from './dataset-config.js';
import type { PipelineRunner } from './loader-runner.js';
import { extractVolumes, maskAugmentation, maskSteps, roundMask, sampleShape } from './sample.js';
import type { PreprocessStep } from './transforms/pipeline.js';
import { Volume } from './volume.js';

/** Returns the samples of one image, from the cache when it has them. */
export async function prepareImage(
  runner: PipelineRunner,
  record: ImageRecord,
  transforms: TransformsConfig,
  cache: TensorCache | null,
): Promise<{ samples: CachedSample[]; cached: boolean }> {
  // The field names are part of the key because the cached samples store fields by name.
  const deterministic = {
    fields: Object.keys(record.paths),
    image: transforms.image,
    extraction: transforms.extraction,
    sample: transforms.sample,
  };
  const key = cache ? await TensorCache.key(deterministic, Object.values(record.paths)) : '';
  const found = cache ? await cache.read(key) : null;
  if (found !== null) return { samples: found, cached: true };
  const samples = await preprocess(runner, record, transforms);
  if (cache) await cache.write(key, samples);
  return { samples, cached: false };
}

/**
 * Waits for every promise like Promise.all. When several fail, it throws the failure of the
 * first one in list order rather than the first in time. An error message then does not
 * depend on which worker finished first: an image and its mask over one limit name the image.
 */
export async function settleInOrder<T>(promises: (T | Promise<T>)[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((entry) => entry.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((entry) => (entry as PromiseFulfilledResult<T>).value);
}

async function preprocess(
  runner: PipelineRunner,
  record: ImageRecord,
  transforms: TransformsConfig,
): Promise<CachedSample[]> {
  const fields = Object.keys(record.paths);
  const imageSteps = (field: string) =>
    field === 'image' ? transforms.image : maskSteps(transforms.image);
  const volumes = await settleInOrder(
    fields.map((field) =>
      runner.run(record.paths[field]!, imageSteps(field), record.paths[field]!),
    ),
  );
  volumes.forEach((volume, index) => checkSameGrid(volumes[0]!, volume, record, fields[index]!));
  const cut = volumes.map((volume) =>
    extractVolumes(runner.kernels, volume, transforms.extraction),
  );
  const sampleSteps = (field: string) =>
    field === 'image' ? transforms.sample : maskSteps(transforms.sample);
  const transformed = await settleInOrder(
    cut.map((parts, fieldIndex) => {
      const field = fields[fieldIndex]!;
      const steps = sampleSteps(field);
      if (steps.length === 0) return parts;
      const name = `${record.paths[field]} (sample transforms)`;
      return settleInOrder(parts.map((part) => runner.run(part, steps, name)));
    }),
  );
  return transformed[0]!.map((first, sampleIndex) => {
    const sample: CachedSample = {
      fields: {},
      shapes: {},
      grid: { shape: [...first.shape], affine: Array.from(first.affine) },
    };
    fields.forEach((field, fieldIndex) => {
      const volume = transformed[fieldIndex]![sampleIndex]!;
      sample.fields[field] = volume.data;
      sample.shapes[field] = sampleShape(volume, transforms.extraction);
    });
    return sample;
  });
}

function checkSameGrid(image: Volume, mask: Volume, record: ImageRecord, field: string): void {
  if (image.spatialShape.join() === mask.spatialShape.join()) return;
  throw new Error(
    `Mask '${field}' of ${record.participant_id} ${record.session_id} (${record.paths[field]}) ` +
      `has grid [${mask.spatialShape.join(', ')}] after preprocessing, but the image has ` +
      `[${image.spatialShape.join(', ')}]; resample the mask onto the image, or add a ` +
      'cropOrPad step.',
  );
}

/**
 * Returns a sample's fields augmented with `seed`. The image gets every augmentation, and masks
 * get only the spatial ones, rounded back to labels.
 */
// NOTE: an affine augmentation resamples masks with linear interpolation before rounding, so a
// label between two others (2 between 1 and 3) can appear on their boundary.
export async function augmentSample(
  runner: PipelineRunner,
  sample: CachedSample,
  augmentation: NonNullable<TransformsConfig['augmentation']>,
  seed: number,
  name: string,
): Promise<Record<string, Float32Array>> {
  const affine = Float64Array.from(sample.grid.affine);
  const entries = await Promise.all(
    Object.entries(sample.fields).map(async ([field, data]) => {
      const options = field === 'image' ? augmentation : maskAugmentation(augmentation);
      if (options === undefined) return [field, data] as const;
      const steps: PreprocessStep[] = [{ op: 'augment', options, seed }];
      const volume = new Volume(data.slice(), sample.grid.shape, affine);
      const result = await runner.run(volume, steps, `${name} (augmentation)`);
      return [field, field === 'image' ? result.data : roundMask(result.data)] as const;
    }),
  );
  return Object.fromEntries(entries);
}
