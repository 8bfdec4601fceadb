/**
 * A linear softmax head, `p = softmax(x · W + b)`, over `featureCount` features and `classes` classes:
 * the part of a model federated fine-tuning trains. `weight` is `[featureCount, classes]` row-major.
 */
export interface SoftmaxHead {
  featureCount: number;
  classes: number;
  weight: ArrayLike<number>;
  bias: ArrayLike<number>;
}

/** Labelled feature rows: `features` is `[count, featureCount]` row-major, `labels[i]` a class in `[0, classes)`. */
export interface FeatureExamples {
  features: ArrayLike<number>;
  labels: ArrayLike<number>;
}

/** Logits of row `i` into `out` (length `classes`). */
export function headLogits(head: SoftmaxHead, features: ArrayLike<number>, i: number, out: Float64Array): Float64Array {
  const { featureCount: F, classes: C, weight, bias } = head;
  for (let c = 0; c < C; c++) out[c] = bias[c];
  const row = i * F;
  for (let f = 0; f < F; f++) {
    const x = features[row + f];
    if (x === 0) continue;
    const w = f * C;
    for (let c = 0; c < C; c++) out[c] += x * weight[w + c];
  }
  return out;
}

/** Softmax in place, shifted by the maximum so large logits do not overflow. */
export function softmaxInPlace(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    z[c] = Math.exp(z[c] - max);
    sum += z[c];
  }
  for (let c = 0; c < z.length; c++) z[c] /= sum;
  return z;
}

/** How many rows the head classifies as their label (arg-max; the first class wins a tie). */
export function headCorrect(head: SoftmaxHead, examples: FeatureExamples): number {
  const z = new Float64Array(head.classes);
  let correct = 0;
  for (let i = 0; i < examples.labels.length; i++) {
    headLogits(head, examples.features, i, z);
    let best = 0;
    for (let c = 1; c < z.length; c++) if (z[c] > z[best]) best = c;
    if (best === examples.labels[i]) correct++;
  }
  return correct;
}
