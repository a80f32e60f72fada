// Float64 reference of the overlap losses (Dice, generalized Dice, Tversky) following MONAI's
// DiceLoss, GeneralizedDiceLoss and TverskyLoss with one-hot labels, and their gradient with
// respect to the probabilities.

import { numel } from '../common.js';
import type { OverlapLossGeometry } from '../overlap-losses.js';

interface Sums {
  inter: number;
  pred: number;
  ground: number;
}

/** A score as a function of its sums, with derivatives by intersection and prediction sum. */
function overlapScore(geometry: OverlapLossGeometry, s: Sums) {
  const nr = geometry.smoothNr ?? 1e-5;
  const dr = geometry.smoothDr ?? 1e-5;
  if (geometry.loss === 'tversky') {
    const [alpha, beta] = [geometry.alpha ?? 0.5, geometry.beta ?? 0.5];
    const fp = alpha * (s.pred - s.inter);
    const fn = beta * (s.ground - s.inter);
    const num = s.inter + nr;
    const den = s.inter + fp + fn + dr;
    return {
      value: 1 - num / den,
      dInter: -(den - num * (1 - alpha - beta)) / den ** 2,
      dPred: (num * alpha) / den ** 2,
    };
  }
  const jaccard = geometry.jaccard ?? false;
  const base = s.ground + s.pred;
  const den = (jaccard ? 2 * (base - s.inter) : base) + dr;
  const num = 2 * s.inter + nr;
  return {
    value: 1 - num / den,
    dInter: jaccard ? -(2 * den + 2 * num) / den ** 2 : -2 / den,
    dPred: ((jaccard ? 2 : 1) * num) / den ** 2,
  };
}

export function overlapLossReference(
  geometry: OverlapLossGeometry,
  p: ArrayLike<number>,
  labels: ArrayLike<number>,
  dLoss: ArrayLike<number>,
): { loss: Float64Array; grad: Float64Array } {
  const [n, c] = [geometry.inputShape[0]!, geometry.inputShape[1]!];
  const spatial = numel(geometry.inputShape.slice(2));
  const squared = geometry.loss === 'dice' && (geometry.squaredPred ?? false);
  const first = geometry.includeBackground === false ? 1 : 0;
  const batch = geometry.batch ?? false;
  const samples = batch ? 1 : n;
  const reduction = geometry.reduction ?? 'mean';
  // Sums per (sample or batch, class), and the (n, c) pairs each one covers.
  const sums = (sample: number, cls: number): Sums => {
    const s = { inter: 0, pred: 0, ground: 0 };
    for (const k of batch ? [...Array(n).keys()] : [sample]) {
      for (let v = 0; v < spatial; v++) {
        const value = p[(k * c + cls) * spatial + v]!;
        const g = labels[k * spatial + v] === cls ? 1 : 0;
        s.inter += value * g;
        s.pred += squared ? value * value : value;
        s.ground += g;
      }
    }
    return s;
  };
  const dInter = new Float64Array(n * c);
  const dPred = new Float64Array(n * c);
  const setPair = (sample: number, cls: number, di: number, dp: number) => {
    for (const k of batch ? [...Array(n).keys()] : [sample]) {
      dInter[k * c + cls] = di;
      dPred[k * c + cls] = dp;
    }
  };
  const values: number[] = [];
  const scoreCount = geometry.loss === 'generalizedDice' ? samples : samples * (c - first);
  const upstream = (score: number) =>
    reduction === 'none' ? dLoss[score]! : reduction === 'sum' ? dLoss[0]! : dLoss[0]! / scoreCount;
  for (let sample = 0; sample < samples; sample++) {
    if (geometry.loss === 'generalizedDice') {
      const classSums = Array.from({ length: c - first }, (_, k) => sums(sample, k + first));
      const type = geometry.weightType ?? 'square';
      const raw = classSums.map((s) =>
        type === 'uniform' ? 1 : type === 'simple' ? 1 / s.ground : 1 / s.ground ** 2,
      );
      const finite = raw.filter(Number.isFinite);
      const weights = raw.map((w) => (Number.isFinite(w) ? w : Math.max(0, ...finite)));
      const num =
        2 * classSums.reduce((t, s, k) => t + weights[k]! * s.inter, 0) +
        (geometry.smoothNr ?? 1e-5);
      const den =
        classSums.reduce((t, s, k) => t + weights[k]! * (s.ground + s.pred), 0) +
        (geometry.smoothDr ?? 1e-5);
      values.push(1 - num / den);
      const g = upstream(sample);
      weights.forEach((w, k) =>
        setPair(sample, k + first, (-2 * w * g) / den, ((w * num) / den ** 2) * g),
      );
      continue;
    }
    for (let cls = first; cls < c; cls++) {
      const score = overlapScore(geometry, sums(sample, cls));
      const g = upstream(values.length);
      values.push(score.value);
      setPair(sample, cls, score.dInter * g, score.dPred * g);
    }
  }
  const total = values.reduce((a, b) => a + b, 0);
  const loss =
    reduction === 'none'
      ? Float64Array.from(values)
      : Float64Array.of(reduction === 'sum' ? total : total / values.length);
  const grad = Float64Array.from(p, (value, i) => {
    const pair = Math.floor(i / spatial);
    const sample = Math.floor(pair / c);
    const g = labels[sample * spatial + (i % spatial)] === pair % c ? 1 : 0;
    return dInter[pair]! * g + dPred[pair]! * (squared ? 2 * value : 1);
  });
  return { loss, grad };
}
