// The float64 TypeScript image backend: the same operations as the Wasm ImageKernels, written
// plainly, for checking the kernels in tests and as the TypeScript baseline of the benchmark.

import type { ImageBackend } from '../wasm/backend.js';
import * as geometry from './reference-geometry.js';
import * as intensity from './reference-intensity.js';

export class ReferenceKernels implements ImageBackend {
  readonly name = 'reference';
  permuteFlip = geometry.permuteFlip;
  cropPad = geometry.cropPad;
  extractBoxes = geometry.extractBoxes;
  maskBoundingBox = geometry.maskBoundingBox;
  resample = geometry.resample;
  countNonFinite = intensity.countNonFinite;
  statistics = intensity.statistics;
  normalise = intensity.normalise;
  subtractScale = intensity.subtractScale;
  clamp = intensity.clamp;
  quantiles = intensity.quantiles;
  separableConvolve = intensity.separableConvolve;
  addGaussianNoise = intensity.addGaussianNoise;
  multiplyBiasField = intensity.multiplyBiasField;
  gammaMap = intensity.gammaMap;
  labelMask = intensity.labelMask;
  attenuate = intensity.attenuate;
}
