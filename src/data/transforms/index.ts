// Volume transforms on an image backend: the Wasm ImageKernels (loadImageKernels) for real
// work, or ReferenceKernels (plain TypeScript, float64) for checks.

export { reorient, planReorient, type ReorientPlan } from './reorient.js';
export {
  resampleToSpacing,
  resampleToReference,
  resampleOnto,
  type ResampleOptions,
} from './resample.js';
export { cropOrPad, cropToMask, cropBox, centredStart } from './crop.js';
export {
  zScore,
  minMaxScale,
  clipPercentiles,
  type NormaliseOptions,
  type ClipOptions,
} from './intensity.js';
export { gaussianSmooth, gaussianWeights } from './smooth.js';
export { extractPatches, extractSlices, type Boxes } from './patches.js';
export {
  flipAxes,
  addNoise,
  adjustGamma,
  applyBiasField,
  biasFieldTermCount,
  transformAffine,
  randomAugment,
  type AffineParameters,
  type AugmentOptions,
  type AppliedAugmentation,
} from './augment.js';
export { checkAugmentOptions } from './augment-options.js';
export { atrophy, type AtrophyOptions } from './atrophy.js';
export { runPipeline, type PreprocessStep } from './pipeline.js';
export { Xoshiro128 } from './random.js';
export { ReferenceKernels } from './reference.js';
export { checkSameGrid, describeGrid, volumeName } from './grid.js';
