// Float64 reference of cross-entropy and NLL with class-index targets, class weights, label
// smoothing and an ignore index, following torch.nn.functional.cross_entropy.

import { numel } from '../common.js';
import type { CrossEntropyGeometry } from '../cross-entropy.js';
import { softmaxReference } from './softmax.js';

export interface CrossEntropyResult {
  /** The reduced loss, or one loss per row for 'none'. */
  loss: Float64Array;
  /** Gradient of the loss (times dLoss) with respect to the scores. */
  grad: Float64Array;
}

/**
 * Computes the loss and its gradient. `dLoss` is the output gradient: one value, or one per
 * row for reduction 'none'.
 */
export function crossEntropyReference(
  geometry: CrossEntropyGeometry,
  x: ArrayLike<number>,
  targets: ArrayLike<number>,
  classWeights: ArrayLike<number>,
  dLoss: ArrayLike<number>,
): CrossEntropyResult {
  const [n, classes] = [geometry.inputShape[0]!, geometry.inputShape[1]!];
  const spatial = numel(geometry.inputShape.slice(2));
  const eps = geometry.labelSmoothing ?? 0;
  const ignore = geometry.ignoreIndex ?? -100;
  const reduction = geometry.reduction ?? 'mean';
  const logP = geometry.fromLogits ? softmaxReference(x, geometry.inputShape, 1, true) : x;
  const rows = n * spatial;
  const rowLoss = new Float64Array(rows);
  const rowWeight = new Float64Array(rows);
  const index = (row: number, c: number) =>
    Math.floor(row / spatial) * classes * spatial + c * spatial + (row % spatial);
  for (let row = 0; row < rows; row++) {
    const t = targets[row]!;
    if (t === ignore) continue;
    let smooth = 0;
    for (let c = 0; c < classes; c++) smooth -= classWeights[c]! * logP[index(row, c)]!;
    rowLoss[row] = -(1 - eps) * classWeights[t]! * logP[index(row, t)]! + (eps * smooth) / classes;
    rowWeight[row] = classWeights[t]!;
  }
  const weightTotal = rowWeight.reduce((a, b) => a + b, 0);
  const lossTotal = rowLoss.reduce((a, b) => a + b, 0);
  let loss: Float64Array;
  if (reduction === 'none') loss = rowLoss;
  else loss = Float64Array.of(reduction === 'sum' ? lossTotal : lossTotal / weightTotal);

  const weightSum = Array.from(classWeights).reduce((a, b) => a + b, 0);
  const grad = new Float64Array(x.length);
  for (let row = 0; row < rows; row++) {
    const t = targets[row]!;
    if (t === ignore) continue;
    const g =
      reduction === 'none'
        ? dLoss[row]!
        : reduction === 'sum'
          ? dLoss[0]!
          : dLoss[0]! / weightTotal;
    for (let c = 0; c < classes; c++) {
      const hit = c === t ? 1 : 0;
      let value: number;
      if (geometry.fromLogits) {
        const p = Math.exp(logP[index(row, c)]!);
        value =
          (1 - eps) * classWeights[t]! * (p - hit) +
          (eps / classes) * (weightSum * p - classWeights[c]!);
      } else {
        value = -(1 - eps) * classWeights[t]! * hit - (eps / classes) * classWeights[c]!;
      }
      grad[index(row, c)] = g * value;
    }
  }
  return { loss, grad };
}
