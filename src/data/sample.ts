// Samples: what a dataset yields per item. A sample has named fields (the 'image', masks,
// labels) as channels-first tensors, and the ids of the image it was cut from. This file cuts
// samples out of preprocessed volumes, derives the steps that keep masks on the image's grid,
// and stacks samples into a Batch.

import type { Batch } from './batch.js';
import type { AugmentationConfig, ExtractionConfig, StepConfig } from './dataset-config.js';
import { extractPatches, extractSlices } from './transforms/patches.js';
import { translateAffine } from './transforms/grid.js';
import type { PreprocessStep } from './transforms/pipeline.js';
import { Volume } from './volume.js';
import type { ImageBackend } from './wasm/backend.js';

export interface Sample {
  participant_id: string;
  session_id: string;
  /** Number of the patch or slice within its image; absent in image mode. */
  index?: number;
  /**
   * Field data without a batch axis. The image and masks are `[C, D, H, W]` for an image or
   * patch and `[C, H, W]` for a slice. A class label is an int32 of shape `[]`, and a float
   * label a float32 of shape `[1]`, so a batch stacks them as `[N]` and `[N, 1]`.
   */
  fields: Record<string, Float32Array | Int32Array>;
  shapes: Record<string, number[]>;
  /** The table row of the image (age, sex and other columns), as text. */
  metadata: Readonly<Record<string, string>>;
}

/**
 * Cuts the samples of one volume as volumes of their own (so sample transforms can run on
 * them): the volume itself, its patches (x fastest, then y, then z) or its slices.
 */
export function extractVolumes(
  backend: ImageBackend,
  volume: Volume,
  extraction: ExtractionConfig,
): Volume[] {
  if (extraction.mode === 'image') return [volume];
  const boxes =
    extraction.mode === 'patch'
      ? extractPatches(
          backend,
          volume,
          extraction.patchSize,
          extraction.stride ?? extraction.patchSize,
        )
      : extractSlices(backend, volume, extraction.axis, extraction.discarded);
  const extra = volume.shape.slice(3);
  return boxes.data.map((data, index) => {
    const affine = translateAffine(volume.affine, boxes.starts[index]!);
    return new Volume(data, [...boxes.boxDims, ...extra], affine, { ...volume.header });
  });
}

/** Returns a sample volume's tensor shape; a slice loses its axis of size 1. */
export function sampleShape(volume: Volume, extraction: ExtractionConfig): number[] {
  const shape: number[] = volume.tensorShape;
  if (extraction.mode !== 'slice') return shape;
  return shape.filter((_, axis) => axis !== 3 - extraction.axis);
}

/**
 * Returns the steps that move a mask the way `steps` move its image: reorientation, resampling
 * with nearest-neighbour interpolation and crop or pad with 0. Intensity steps are left out.
 */
export function maskSteps(steps: readonly StepConfig[]): PreprocessStep[] {
  const result: PreprocessStep[] = [];
  for (const step of steps) {
    if (step.op === 'reorient') result.push(step);
    if (step.op === 'resample') result.push({ ...step, interpolation: 'nearest' });
    if (step.op === 'cropOrPad') result.push({ ...step, fill: 0 });
  }
  return result;
}

/**
 * Returns the spatial augmentations (affine and flip) of `augmentation`, for masks. randomAugment
 * draws the affine and flip parameters before the intensity ones, so the same seed moves the
 * mask exactly as the image.
 */
export function maskAugmentation(augmentation: AugmentationConfig): AugmentationConfig | undefined {
  const { affine, flip } = augmentation;
  if (affine === undefined && flip === undefined) return undefined;
  return { ...(affine && { affine }), ...(flip && { flip }) };
}

/** Rounds a mask resampled with linear interpolation (by an affine augmentation) to labels. */
export function roundMask(data: Float32Array): Float32Array {
  for (let index = 0; index < data.length; index++) data[index] = Math.round(data[index]!);
  return data;
}

/** Stacks samples with the same fields and shapes into one batch. */
export function collate(samples: readonly Sample[]): Batch {
  const first = samples[0]!;
  const fields: Batch['fields'] = {};
  const shapes: Batch['shapes'] = {};
  for (const [name, data] of Object.entries(first.fields)) {
    const shape = first.shapes[name]!;
    const stacked =
      data instanceof Int32Array
        ? new Int32Array(samples.length * data.length)
        : new Float32Array(samples.length * data.length);
    samples.forEach((sample, row) => {
      const part = sample.fields[name]!;
      if (part.length !== data.length) {
        throw new Error(
          `Field '${name}' of ${sample.participant_id} ${sample.session_id} has ${part.length} ` +
            `values but the batch's first sample has ${data.length}.`,
        );
      }
      stacked.set(part, row * data.length);
    });
    fields[name] = stacked;
    shapes[name] = [samples.length, ...shape];
  }
  const ids = samples.map(({ participant_id, session_id, index }) =>
    index === undefined ? { participant_id, session_id } : { participant_id, session_id, index },
  );
  return { fields, shapes, size: samples.length, ids };
}
