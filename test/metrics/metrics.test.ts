import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  averagePrecision,
  classificationMetrics,
  dice,
  hausdorffDistance,
  iou,
  psnr,
  regressionMetrics,
  rocAuc,
  rocCurve,
  ssim,
  type Grid,
} from '../../src/metrics/index.js';

/** Reference values from scikit-learn and scipy (scripts/fixtures/metrics_sklearn.py). */
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/metrics.json', import.meta.url), 'utf8'),
);

function close(actual: number, expected: number, tolerance = 1e-9, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} != ${expected}`);
}

describe('classification metrics', () => {
  it('match scikit-learn', () => {
    for (const item of fixture.classification) {
      const result = classificationMetrics(item.yTrue, item.yPred, item.numClasses);
      const what = `${item.numClasses} classes`;
      close(result.accuracy, item.accuracy, 1e-12, `${what} accuracy`);
      close(result.balancedAccuracy, item.balancedAccuracy, 1e-12, `${what} balanced accuracy`);
      close(result.sensitivity, item.sensitivity, 1e-12, `${what} sensitivity`);
      close(result.precision, item.precision, 1e-12, `${what} precision`);
      close(result.f1, item.f1, 1e-12, `${what} f1`);
      close(result.mcc, item.mcc, 1e-12, `${what} mcc`);
      assert.deepEqual(result.confusionMatrix, item.confusionMatrix);
    }
  });

  it('computes binary counts by hand', () => {
    // TP 3, FN 1, FP 2, TN 4.
    const yTrue = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
    const yPred = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0];
    const result = classificationMetrics(yTrue, yPred, 2);
    close(result.sensitivity, 3 / 4);
    close(result.specificity, 4 / 6);
    close(result.precision, 3 / 5);
    close(result.npv, 4 / 5);
    close(result.balancedAccuracy, (3 / 4 + 4 / 6) / 2);
  });

  it('rejects labels outside the classes', () => {
    assert.throws(() => classificationMetrics([0, 2], [0, 1], 2), /Invalid label 2 at index 1/);
    assert.throws(() => classificationMetrics([0, 1], [0], 2), /1 predictions for 2 labels/);
  });
});

describe('ranking metrics', () => {
  it('match scikit-learn with tied scores', () => {
    for (const item of fixture.binary_scores) {
      close(rocAuc(item.yTrue, item.scores), item.rocAuc, 1e-12, 'roc auc');
      close(averagePrecision(item.yTrue, item.scores), item.averagePrecision, 1e-12, 'ap');
      const curve = rocCurve(item.yTrue, item.scores);
      assert.equal(curve.fpr.length, item.fpr.length);
      curve.fpr.forEach((value, i) => close(value, item.fpr[i], 1e-12, `fpr ${i}`));
      curve.tpr.forEach((value, i) => close(value, item.tpr[i], 1e-12, `tpr ${i}`));
    }
  });

  it('is undefined with one class', () => {
    assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
  });
});

describe('regression metrics', () => {
  it('match scikit-learn', () => {
    for (const item of fixture.regression) {
      const result = regressionMetrics(item.yTrue, item.yPred);
      close(result.mae, item.mae, 1e-9, 'mae');
      close(result.mse, item.mse, 1e-9, 'mse');
      close(result.rmse, Math.sqrt(item.mse), 1e-9, 'rmse');
      close(result.r2, item.r2, 1e-12, 'r2');
    }
  });

  it('computes psnr by hand', () => {
    // MSE 0.01 over a range of 1: 20 dB.
    close(psnr([0, 1, 0, 1], [0.1, 0.9, 0.1, 0.9]), 20, 1e-9);
    assert.equal(psnr([0, 1], [0, 1]), Number.POSITIVE_INFINITY);
  });

  it('computes ssim like the scipy reference', () => {
    const item = fixture.ssim[0];
    close(ssim(item.target, item.image, item.shape), item.ssim, 1e-9, 'ssim');
    close(ssim(item.target, item.target, item.shape), 1, 1e-12, 'identical');
  });
});

describe('segmentation metrics', () => {
  it('computes overlap by hand', () => {
    const a = [1, 1, 1, 0, 0];
    const b = [0, 1, 1, 1, 0];
    close(dice(a, b), 4 / 6);
    close(iou(a, b), 2 / 4);
    assert.equal(dice([0, 0], [0, 0]), 1);
  });

  it('matches scipy hausdorff distances', () => {
    for (const item of fixture.hausdorff) {
      const shape = item.shape as Grid;
      const spacing = item.spacing as Grid;
      close(hausdorffDistance(item.a, item.b, shape, spacing), item.hd95, 1e-9, 'hd95');
      close(hausdorffDistance(item.a, item.b, shape, spacing, 100), item.hd100, 1e-9, 'hd100');
    }
  });

  it('is nan for an empty mask', () => {
    assert.ok(Number.isNaN(hausdorffDistance([0, 0, 0, 0], [1, 0, 0, 0], [1, 2, 2])));
  });
});
