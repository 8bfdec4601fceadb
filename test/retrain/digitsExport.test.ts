import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeDigitsCnn, predictDigitsTfjs, type DigitsCnnWeights } from '../../src/retrain/digits/digitsCnn';
import { evaluateDigits, predictDigitsOnnx } from '../../src/retrain/digits/evaluateOnnx';
import { exportDigitsOnnx } from '../../src/retrain/digits/exportDigitsOnnx';
import { mnistSplit } from '../../src/retrain/digits/mnistSplit';
import { accuracyOf, trainDigitsCnn } from '../../src/retrain/digits/trainDigits';

// A short training run (1 epoch on 1500 digits, seconds): the export must reproduce whatever weights it gets.
describe('exportDigitsOnnx', () => {
  let weights: DigitsCnnWeights;
  let onnx: Uint8Array;
  const { train, heldOut } = mnistSplit();
  const samples = heldOut.filter((_, i) => i % 20 === 0).slice(0, 100);

  beforeAll(async () => {
    ({ weights } = await trainDigitsCnn({ samples: train.filter((_, i) => i % 5 === 0).slice(0, 1500), epochs: 1, seed: 3 }));
    onnx = exportDigitsOnnx(weights);
  });
  afterAll(() => weights && disposeDigitsCnn(weights));

  it('declares image float32 [batch, 1, 28, 28] → probabilities float32 [batch, 10]', async () => {
    const session = await ort.InferenceSession.create(onnx);
    try {
      expect(session.inputMetadata.map((m) => [m.name, m.isTensor && m.type, m.isTensor && m.shape])).toEqual([
        ['image', 'float32', ['batch', 1, 28, 28]],
      ]);
      expect(session.outputMetadata.map((m) => [m.name, m.isTensor && m.type, m.isTensor && m.shape])).toEqual([
        ['probabilities', 'float32', ['batch', 10]],
      ]);
    } finally {
      await session.release();
    }
  });

  it("gives the trained tfjs model's outputs on 100 digits (onnxruntime-node, atol 1e-4), softmax included", async () => {
    expect(samples).toHaveLength(100);
    const expected = predictDigitsTfjs(weights, samples);
    const actual = await predictDigitsOnnx(onnx, samples);
    expect(actual.length).toBe(1000);
    let worst = 0;
    actual.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - expected[i]))));
    expect(worst).toBeLessThanOrEqual(1e-4);
    for (let row = 0; row < 100; row++) {
      const sum = actual.subarray(row * 10, row * 10 + 10).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 5);
    }
    // Not a degenerate model: the comparison means something.
    expect(accuracyOf(actual, samples)).toBeGreaterThan(0.7);
    expect((await evaluateDigits(onnx, samples)).accuracy).toBe(accuracyOf(actual, samples));
  });
});
