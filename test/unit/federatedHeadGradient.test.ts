// The head's gradient is what every client computes in its worker: checked against central finite
// differences of the loss, on a small random head, in float64.
import { describe, expect, it } from 'vitest';
import { headGradient } from '../../src/core/federated/headGradient';
import { headCorrect, type SoftmaxHead } from '../../src/core/federated/SoftmaxHead';
import { trainHeadLocally } from '../../src/core/federated/trainHeadLocally';
import { mulberry32 } from '../../src/core/mulberry32';

function randomProblem(seed: number, F = 7, C = 4, n = 9) {
  const random = mulberry32(seed);
  const normal = () => (random() + random() + random() - 1.5) * 2;
  const head: SoftmaxHead = {
    featureCount: F,
    classes: C,
    weight: Float64Array.from({ length: F * C }, normal),
    bias: Float64Array.from({ length: C }, normal),
  };
  // Non-negative features with zeros, like ReLU outputs.
  const features = Float64Array.from({ length: n * F }, () => Math.max(0, normal()));
  const labels = Int32Array.from({ length: n }, () => Math.floor(random() * C));
  return { head, examples: { features, labels } };
}

describe('headGradient: softmax cross-entropy of a linear head', () => {
  it('equals central finite differences of the loss for every weight and bias', () => {
    for (const seed of [1, 2, 3]) {
      const { head, examples } = randomProblem(seed);
      const g = headGradient(head, examples);
      const h = 1e-6;
      const lossWith = (which: 'weight' | 'bias', j: number, delta: number) => {
        const weight = Float64Array.from(head.weight);
        const bias = Float64Array.from(head.bias);
        (which === 'weight' ? weight : bias)[j] += delta;
        return headGradient({ ...head, weight, bias }, examples).loss;
      };
      for (const [which, analytic] of [
        ['weight', g.weight],
        ['bias', g.bias],
      ] as const) {
        for (let j = 0; j < analytic.length; j++) {
          const numeric = (lossWith(which, j, h) - lossWith(which, j, -h)) / (2 * h);
          expect(Math.abs(analytic[j] - numeric), `${which}[${j}] seed ${seed}`).toBeLessThan(1e-7 + 1e-6 * Math.abs(numeric));
        }
      }
    }
  });

  it('is the mean over the rows it is given (a subset by index)', () => {
    const { head, examples } = randomProblem(4);
    const all = headGradient(head, examples, [0, 1, 2, 3]);
    const parts = [0, 1, 2, 3].map((i) => headGradient(head, examples, [i]));
    for (let j = 0; j < all.weight.length; j++) {
      expect(all.weight[j]).toBeCloseTo(parts.reduce((s, p) => s + p.weight[j], 0) / 4, 12);
    }
    expect(all.loss).toBeCloseTo(parts.reduce((s, p) => s + p.loss, 0) / 4, 12);
  });

  it('keeps large logits finite (the softmax is shifted by its maximum)', () => {
    const head: SoftmaxHead = { featureCount: 1, classes: 2, weight: [1000, -1000], bias: [0, 0] };
    const g = headGradient(head, { features: [5], labels: [1] });
    expect(Number.isFinite(g.loss)).toBe(true);
    expect([...g.weight].every(Number.isFinite)).toBe(true);
  });
});

describe('trainHeadLocally', () => {
  it('lowers the loss on its rows and reports the change from the round head', () => {
    const { head, examples } = randomProblem(5, 6, 3, 40);
    const before = headGradient(head, examples).loss;
    const update = trainHeadLocally(head, examples, { epochs: 20, learningRate: 0.1, batchSize: 8 });
    const weight = Float64Array.from(head.weight, (w, j) => w + update.dW[j]);
    const bias = Float64Array.from(head.bias, (b, c) => b + update.db[c]);
    const after = headGradient({ ...head, weight, bias }, examples).loss;
    expect(update.lossBefore).toBeCloseTo(before, 12);
    expect(after).toBeLessThan(before * 0.8);
    expect(headCorrect({ ...head, weight, bias }, examples)).toBeGreaterThan(headCorrect(head, examples));
  });

  it('is deterministic for a seed and changes nothing without rows', () => {
    const { head, examples } = randomProblem(6);
    const a = trainHeadLocally(head, examples, { epochs: 2, learningRate: 0.05, seed: 9 });
    const b = trainHeadLocally(head, examples, { epochs: 2, learningRate: 0.05, seed: 9 });
    expect([...a.dW]).toEqual([...b.dW]);
    const none = trainHeadLocally(head, { features: [], labels: [] }, { epochs: 3, learningRate: 0.05 });
    expect([...none.dW, ...none.db].every((v) => v === 0)).toBe(true);
  });
});
