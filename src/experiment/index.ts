// Trained experiment folders for inference, in Node and in browsers: reading the folder (from
// disk in node.ts, from a zip or from memory here), its network, preprocessing and weights.

export {
  memoryExperimentFiles,
  normalisePath,
  zipExperimentFiles,
  type ExperimentFiles,
} from './files.js';
export {
  EXPERIMENT_LAYOUT_VERSION,
  inferTask,
  loadExperiment,
  type ExperimentNetwork,
  type ExperimentTask,
  type LoadedExperiment,
  type LoadOptions,
} from './load.js';
export { readNetworkSources, type NetworkSources } from './network-source.js';
export {
  preprocessImage,
  type PreprocessedImage,
  type PreprocessedSample,
  type Preprocessing,
} from './preprocessing.js';
export { checkWeights } from './weights.js';
export { compileInference, type InferenceNetwork } from './inference.js';
export {
  labelMap,
  predictImage,
  predictImages,
  requirePreprocessing,
  softmax,
  type ImagePrediction,
  type SamplePrediction,
} from './predict.js';
export { VOTING_RULE, voteSamples, type ImageVote } from './vote.js';
export {
  compileExperimentSaliency,
  imageSaliency,
  resolveTarget,
  type ImageSaliency,
} from './saliency.js';
