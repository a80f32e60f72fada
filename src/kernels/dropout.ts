// Plans dropout with a seeded counter-based generator (shaders/dropout.wgsl). The seed comes
// from a uniform buffer the host writes each step (dropoutSeed), so the pipeline is compiled
// once; the backward pass runs the same kernel on dy with the same seed.

import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import template from '../../shaders/dropout.wgsl';
import {
  checkRange,
  checkShape,
  checkTensor,
  f32,
  numel,
  u32,
  type KernelPlan,
  type PlanLimits,
  type Shape,
} from './common.js';
import { specialize } from './template.js';

/** Bytes of the seed uniform (two u32, padded to 16). */
export const SEED_BYTES = 16;

/**
 * Plans dropout of probability `p` in [0, 1). Bindings: (0) x (or dy), (1) y (or dx),
 * (2) the seed uniform from dropoutSeed. A split tensor binds windows of `shape`'s elements.
 * `firstElement` is the index of a window's first element in the whole tensor, and the mask
 * is drawn from the whole tensor's indices, so a split draws the unsplit mask.
 */
export function planDropout(
  shape: Shape,
  p: number,
  limits: PlanLimits,
  firstElement = 0,
): KernelPlan {
  checkShape('dropout input', shape);
  checkRange('dropout p', p, 0, 0.999999);
  const elements = numel(shape);
  checkTensor(limits, 'dropout input', elements);
  if (!Number.isInteger(firstElement) || firstElement < 0 || firstElement + elements > 2 ** 32) {
    throw new RangeError(
      `Dropout window [${firstElement}, ${firstElement + elements}) must lie in [0, 2^32).`,
    );
  }
  const source = specialize('dropout', template, {
    COUNT: u32(elements),
    FIRST_ELEMENT: u32(firstElement),
    P: f32(p),
    SCALE: f32(1 / (1 - p)),
  });
  return {
    spec: {
      name: 'dropout',
      source: source + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage', 'uniform'],
    },
    workgroups: Math.ceil(elements / 256),
    flops: 20 * elements,
    bytes: 8 * elements,
  };
}

/**
 * Derives the seed uniform of one dropout call from the experiment seed, the step and the
 * layer. Every layer and step then draws a different mask, and a rerun draws the same ones.
 */
export function dropoutSeed(seed: number, step: number, layer: number): Uint32Array {
  const data = new Uint32Array(SEED_BYTES / 4);
  data[0] = (Math.imul(seed >>> 0, 0x9e3779b1) ^ layer) >>> 0;
  data[1] = (Math.imul(step >>> 0, 0x85ebca6b) + Math.imul(layer, 0xc2b2ae35)) >>> 0;
  return data;
}
