import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readInitializers } from '../../src/node/onnx/readInitializers';
import { disposeDigitsCnn, predictDigitsTfjs } from '../../src/retrain/digits/digitsCnn';
import { predictDigitsOnnx } from '../../src/retrain/digits/evaluateOnnx';
import { importDigitsOnnx } from '../../src/retrain/digits/importDigitsOnnx';
import { mnistSplit } from '../../src/retrain/digits/mnistSplit';
import { accuracyOf } from '../../src/retrain/digits/trainDigits';
import { encodeModel } from '../../src/node/onnx/encodeModel';

// The committed v1 (exported by exportDigitsOnnx after a full training run) read back into tfjs: what the
// digits trainer fine-tunes from.
describe('importDigitsOnnx (readInitializers)', () => {
  const v1 = new Uint8Array(readFileSync('models/trained/digits-1.onnx'));

  it('reads the initializers with their names, dims and float32 values', () => {
    const initializers = readInitializers(v1);
    expect(initializers.map((t) => [t.name, t.dims, t.dataType])).toEqual([
      ['conv1_w', [8, 1, 4, 4], 1],
      ['conv1_b', [8], 1],
      ['conv2_w', [32, 8, 3, 3], 1],
      ['conv2_b', [32], 1],
      ['dense_w', [1152, 10], 1],
      ['dense_b', [10], 1],
    ]);
    expect(initializers.every((t) => t.values?.some((v) => v !== 0))).toBe(true);
  });

  it("gives tfjs weights whose outputs equal onnxruntime-node's on 100 digits (atol 1e-4)", async () => {
    const samples = mnistSplit()
      .heldOut.filter((_, i) => i % 20 === 0)
      .slice(0, 100);
    const weights = importDigitsOnnx(v1);
    expect(weights).toBeDefined();
    try {
      const expected = await predictDigitsOnnx(v1, samples);
      const actual = predictDigitsTfjs(weights!, samples);
      let worst = 0;
      actual.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - expected[i]))));
      expect(worst).toBeLessThanOrEqual(1e-4);
      expect(accuracyOf(actual, samples)).toBeGreaterThan(0.9);
    } finally {
      disposeDigitsCnn(weights!);
    }
  });

  it('returns undefined for a model of another architecture (the trainer then trains from scratch)', () => {
    const other = encodeModel({
      irVersion: 8,
      opsets: [{ domain: '', version: 17 }],
      producerName: 'test',
      producerVersion: '0',
      graph: {
        name: 'other',
        inputs: [{ name: 'x', type: 'float32', shape: [1, 4] }],
        outputs: [{ name: 'y', type: 'float32', shape: [1, 4] }],
        initializers: [{ name: 'dense_b', type: 'float32', dims: [4], values: [1, 2, 3, 4] }],
        nodes: [{ opType: 'Add', inputs: ['x', 'dense_b'], outputs: ['y'] }],
      },
    });
    expect(readInitializers(other)).toEqual([{ name: 'dense_b', dims: [4], dataType: 1, values: Float32Array.from([1, 2, 3, 4]) }]);
    expect(importDigitsOnnx(other)).toBeUndefined();
    expect(() => readInitializers(v1.subarray(0, v1.length - 7))).toThrow();
  });
});
