// Classification metrics computed from predicted and true class indices (and, for ROC-AUC and
// average precision, scores of the positive class). Definitions follow scikit-learn, so the
// fixtures made with it check them; a ratio whose denominator is zero is 0, as scikit-learn's
// zero_division=0.

import { UserError } from '../errors.js';

/** counts[t][p]: samples of true class t predicted as p. */
export type ConfusionMatrix = number[][];

function checkLabels(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): void {
  if (yTrue.length !== yPred.length) {
    throw new UserError(
      `Metrics need as many predictions as labels, got ${yPred.length} predictions for ` +
        `${yTrue.length} labels.`,
    );
  }
  for (const [what, values] of [
    ['label', yTrue],
    ['prediction', yPred],
  ] as const) {
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      if (!Number.isInteger(value) || value < 0 || value >= numClasses) {
        throw new UserError(
          `Invalid ${what} ${value} at index ${i}: class indices must be integers in ` +
            `[0, ${numClasses - 1}].`,
        );
      }
    }
  }
}

export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses: number,
): ConfusionMatrix {
  checkLabels(yTrue, yPred, numClasses);
  const counts = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) counts[yTrue[i]!]![yPred[i]!]! += 1;
  return counts;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/** One-vs-rest counts of class `k`. */
function classCounts(matrix: ConfusionMatrix, k: number) {
  let total = 0;
  let predicted = 0;
  for (let t = 0; t < matrix.length; t++) {
    for (let p = 0; p < matrix.length; p++) {
      total += matrix[t]![p]!;
      if (p === k) predicted += matrix[t]![p]!;
    }
  }
  const actual = matrix[k]!.reduce((sum, count) => sum + count, 0);
  const tp = matrix[k]![k]!;
  const fp = predicted - tp;
  const fn = actual - tp;
  return { tp, fp, fn, tn: total - tp - fp - fn };
}

export interface ClassificationMetrics {
  accuracy: number;
  balancedAccuracy: number;
  /** Recall of the positive class (binary) or macro-averaged recall. */
  sensitivity: number;
  specificity: number;
  precision: number;
  /** Negative predictive value. */
  npv: number;
  f1: number;
  /** Matthews correlation coefficient, multiclass form (Gorodkin's R_K). */
  mcc: number;
  confusionMatrix: ConfusionMatrix;
}

/**
 * Computes the classification metrics. With two classes, sensitivity, specificity, precision,
 * NPV and F1 are those of class 1 as positive; with more, they are macro averages over the
 * one-vs-rest problems. Balanced accuracy is the mean recall over classes with samples.
 */
export function classificationMetrics(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses: number,
): ClassificationMetrics {
  const matrix = confusionMatrix(yTrue, yPred, numClasses);
  const n = yTrue.length;
  const perClass = matrix.map((_, k) => classCounts(matrix, k));
  const recall = perClass.map(({ tp, fn }) => ratio(tp, tp + fn));
  const specificity = perClass.map(({ tn, fp }) => ratio(tn, tn + fp));
  const precision = perClass.map(({ tp, fp }) => ratio(tp, tp + fp));
  const npv = perClass.map(({ tn, fn }) => ratio(tn, tn + fn));
  const f1 = perClass.map(({ tp, fp, fn }) => ratio(2 * tp, 2 * tp + fp + fn));
  const present = perClass.map(({ tp, fn }) => tp + fn > 0);
  const presentRecall = recall.filter((_, k) => present[k]);
  const mean = (values: number[]) =>
    values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
  const pick = (values: number[]) => (numClasses === 2 ? values[1]! : mean(values));
  const correct = matrix.reduce((sum, row, k) => sum + row[k]!, 0);
  return {
    accuracy: ratio(correct, n),
    balancedAccuracy: mean(presentRecall),
    sensitivity: pick(recall),
    specificity: pick(specificity),
    precision: pick(precision),
    npv: pick(npv),
    f1: pick(f1),
    mcc: matthews(matrix),
    confusionMatrix: matrix,
  };
}

function matthews(matrix: ConfusionMatrix): number {
  const k = matrix.length;
  const predicted = new Array<number>(k).fill(0);
  const actual = new Array<number>(k).fill(0);
  let correct = 0;
  let total = 0;
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const count = matrix[t]![p]!;
      actual[t]! += count;
      predicted[p]! += count;
      total += count;
      if (t === p) correct += count;
    }
  }
  const dot = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);
  const numerator = correct * total - dot(actual, predicted);
  const denominator =
    Math.sqrt(total * total - dot(predicted, predicted)) *
    Math.sqrt(total * total - dot(actual, actual));
  return denominator === 0 ? 0 : numerator / denominator;
}

function checkScores(yTrue: ArrayLike<number>, scores: ArrayLike<number>): void {
  if (yTrue.length !== scores.length) {
    throw new UserError(`Got ${scores.length} scores for ${yTrue.length} labels.`);
  }
  for (let i = 0; i < yTrue.length; i++) {
    if (yTrue[i] !== 0 && yTrue[i] !== 1) {
      throw new UserError(`Binary metrics need labels 0 or 1; label ${yTrue[i]} at index ${i}.`);
    }
    if (!Number.isFinite(scores[i]!)) {
      throw new UserError(`Score ${scores[i]} at index ${i} is not a finite number.`);
    }
  }
}

/** Indices sorted by decreasing score, ties kept together. */
function byDecreasingScore(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
}

/**
 * Area under the ROC curve of binary labels and positive-class scores, with tied scores
 * counted as half (the Mann-Whitney statistic). NaN when one class is absent, as the curve
 * is undefined.
 */
export function rocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkScores(yTrue, scores);
  const order = byDecreasingScore(scores);
  const positives = Array.from(yTrue).filter((label) => label === 1).length;
  const negatives = yTrue.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  let area = 0;
  let positivesAbove = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    let tiedPositives = 0;
    let tiedNegatives = 0;
    while (end < order.length && scores[order[end]!] === scores[order[start]!]) {
      if (yTrue[order[end]!] === 1) tiedPositives++;
      else tiedNegatives++;
      end++;
    }
    area += tiedNegatives * (positivesAbove + tiedPositives / 2);
    positivesAbove += tiedPositives;
    start = end;
  }
  return area / (positives * negatives);
}

/** The ROC curve's points (false positive rate, true positive rate), one per distinct score. */
export function rocCurve(
  yTrue: ArrayLike<number>,
  scores: ArrayLike<number>,
): { fpr: number[]; tpr: number[]; thresholds: number[] } {
  checkScores(yTrue, scores);
  const order = byDecreasingScore(scores);
  const positives = Array.from(yTrue).filter((label) => label === 1).length;
  const negatives = yTrue.length - positives;
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Number.POSITIVE_INFINITY];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (yTrue[order[i]!] === 1) tp++;
    else fp++;
    const last = i === order.length - 1 || scores[order[i + 1]!] !== scores[order[i]!];
    if (!last) continue;
    fpr.push(ratio(fp, negatives));
    tpr.push(ratio(tp, positives));
    thresholds.push(scores[order[i]!]!);
  }
  return { fpr, tpr, thresholds };
}

/** Average precision as scikit-learn defines it: Σ (R_n − R_{n−1}) P_n over thresholds. */
export function averagePrecision(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkScores(yTrue, scores);
  const order = byDecreasingScore(scores);
  const positives = Array.from(yTrue).filter((label) => label === 1).length;
  if (positives === 0) return Number.NaN;
  let tp = 0;
  let previousRecall = 0;
  let sum = 0;
  for (let i = 0; i < order.length; i++) {
    if (yTrue[order[i]!] === 1) tp++;
    const last = i === order.length - 1 || scores[order[i + 1]!] !== scores[order[i]!];
    if (!last) continue;
    const recall = tp / positives;
    sum += (recall - previousRecall) * (tp / (i + 1));
    previousRecall = recall;
  }
  return sum;
}
