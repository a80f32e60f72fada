// Inferers: run a network of a fixed batch shape over whole volumes, over patches blended back
// into the volume, or over every slice stacked back into the volume.

export type { ForwardFunction, InferenceVolume } from './common.js';
export { WholeImageInferer, type WholeImageOptions } from './whole-image.js';
export { PatchInferer, windowStarts, type PatchInfererOptions } from './patch.js';
export { SliceInferer, type SliceInfererOptions } from './slice.js';
export { programForward } from './program.js';
