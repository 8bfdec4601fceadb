import { headLogits, softmaxInPlace, type FeatureExamples, type SoftmaxHead } from './SoftmaxHead';

/** The mean cross-entropy of a head on some rows and its gradient with respect to W and b. */
export interface HeadGradient {
  loss: number;
  /** `[featureCount, classes]` row-major. */
  weight: Float64Array;
  bias: Float64Array;
}

/**
 * Mean softmax cross-entropy `−(1/n) Σ log p_{y_i}` of `head` on rows `rows` (default: all) and its exact
 * gradient: `∂/∂W = (1/n) Σ x_iᵀ (p_i − e_{y_i})`, `∂/∂b = (1/n) Σ (p_i − e_{y_i})` (the softmax and the
 * cross-entropy differentiated together, as in Bishop, Pattern Recognition and Machine Learning, §4.3.4).
 */
export function headGradient(head: SoftmaxHead, examples: FeatureExamples, rows?: ArrayLike<number>): HeadGradient {
  const { featureCount: F, classes: C } = head;
  const weight = new Float64Array(F * C);
  const bias = new Float64Array(C);
  const n = rows ? rows.length : examples.labels.length;
  const p = new Float64Array(C);
  let loss = 0;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k] : k;
    const y = examples.labels[i];
    softmaxInPlace(headLogits(head, examples.features, i, p));
    loss -= Math.log(Math.max(p[y], Number.MIN_VALUE));
    p[y] -= 1;
    for (let c = 0; c < C; c++) bias[c] += p[c];
    const row = i * F;
    for (let f = 0; f < F; f++) {
      const x = examples.features[row + f];
      if (x === 0) continue;
      const w = f * C;
      for (let c = 0; c < C; c++) weight[w + c] += x * p[c];
    }
  }
  if (n > 0) {
    for (let j = 0; j < weight.length; j++) weight[j] /= n;
    for (let c = 0; c < C; c++) bias[c] /= n;
    loss /= n;
  }
  return { loss, weight, bias };
}
