export {
  averagePrecision,
  classificationMetrics,
  confusionMatrix,
  rocAuc,
  rocCurve,
  type ClassificationMetrics,
  type ConfusionMatrix,
} from './classification.js';
export {
  psnr,
  regressionMetrics,
  ssim,
  type RegressionMetrics,
  type SsimOptions,
} from './regression.js';
export { dice, hausdorffDistance, iou, type Grid } from './segmentation.js';
