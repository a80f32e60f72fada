// Entry point of build/clinicadl.wasm: the image operations behind src/data/wasm. Every
// export takes raw pointers into this module's memory (from alloc) and plain numbers; volumes
// are f32 in x-fastest voxel order.

export { alloc, free } from './memory';
export { permuteFlip, cropPad, extractBoxes, maskBoundingBox } from './geometry';
export { resampleLinear, resampleNearest } from './resample';
export {
  countNonFinite,
  maskedStatistics,
  maskedSquaredDeviation,
  subtractScale,
  clamp,
  gatherMasked,
  quantile,
} from './intensity';
export { convolveAxis } from './smooth';
export { addGaussianNoise, multiplyBiasField } from './random';
export { gammaMap, labelMask, attenuate } from './pointwise';
