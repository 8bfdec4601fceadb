import { mulberry32 } from '../mulberry32';
import { headGradient } from './headGradient';
import type { FeatureExamples, SoftmaxHead } from './SoftmaxHead';

export interface LocalTrainingOptions {
  epochs: number;
  learningRate: number;
  /** Rows per step (default 10). */
  batchSize?: number;
  /** Seeds the shuffle of each epoch (default 1). */
  seed?: number;
}

/** What a client sends after training: its head minus the round's head. */
export interface HeadUpdate {
  /** `[featureCount, classes]` row-major: trained W − round W. */
  dW: Float64Array;
  /** trained b − round b. */
  db: Float64Array;
  /** Mean cross-entropy of the round's head on the rows, before the first step. */
  lossBefore: number;
}

/**
 * Mini-batch gradient descent on the head from the round's weights (`epochs` passes over the rows in a
 * seeded order, `learningRate` per step), the rest of the model frozen: returns the change, which is what a
 * client reports. With no rows the change is zero.
 */
export function trainHeadLocally(head: SoftmaxHead, examples: FeatureExamples, options: LocalTrainingOptions): HeadUpdate {
  const { featureCount: F, classes: C } = head;
  const weight = Float64Array.from(head.weight);
  const bias = Float64Array.from(head.bias);
  const current: SoftmaxHead = { featureCount: F, classes: C, weight, bias };
  const n = examples.labels.length;
  const batch = Math.max(1, options.batchSize ?? 10);
  const random = mulberry32(options.seed ?? 1);
  const order = Array.from({ length: n }, (_, i) => i);
  const lossBefore = n > 0 ? headGradient(head, examples).loss : 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let start = 0; start < n; start += batch) {
      const g = headGradient(current, examples, order.slice(start, start + batch));
      for (let j = 0; j < weight.length; j++) weight[j] -= options.learningRate * g.weight[j];
      for (let c = 0; c < C; c++) bias[c] -= options.learningRate * g.bias[c];
    }
  }
  const dW = new Float64Array(F * C);
  const db = new Float64Array(C);
  for (let j = 0; j < dW.length; j++) dW[j] = weight[j] - head.weight[j];
  for (let c = 0; c < C; c++) db[c] = bias[c] - head.bias[c];
  return { dW, db, lossBefore };
}
