import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { driftedDigits } from '../../src/retrain/digits/drift';
import { mnistSplit, type DigitSample } from '../../src/retrain/digits/mnistSplit';

const hash = (pixels: Float32Array) =>
  createHash('sha256')
    .update(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength))
    .digest('hex');
const perClass = (samples: DigitSample[]) => Array.from({ length: 10 }, (_, d) => samples.filter((s) => s.label === d).length);

describe('mnistSplit', () => {
  const { train, heldOut } = mnistSplit();

  it('holds back a fifth of every class, the same digits every time', () => {
    expect(train.length + heldOut.length).toBe(10_000);
    const trainCounts = perClass(train);
    perClass(heldOut).forEach((held, digit) => {
      expect(held / (held + trainCounts[digit]), `digit ${digit}`).toBeCloseTo(0.2, 2);
    });
    // Every digit is 784 values in [0, 1] (0 = background, 1 = ink) with some ink.
    for (const sample of [...train, ...heldOut]) {
      expect(sample.pixels.length).toBe(784);
      expect(Math.max(...sample.pixels)).toBeGreaterThan(0.5);
      expect(Math.min(...sample.pixels)).toBeGreaterThanOrEqual(0);
    }
  });

  it('trains on no held-back digit', () => {
    const trainHashes = new Set(train.map((s) => hash(s.pixels)));
    expect(heldOut.filter((s) => trainHashes.has(hash(s.pixels)))).toEqual([]);
  });
});

describe('driftedDigits', () => {
  it('is deterministic from its seed, and another seed draws other digits', () => {
    const a = driftedDigits(50, 7, 'heldOut');
    const b = driftedDigits(50, 7, 'heldOut');
    expect(a.map((s) => hash(s.pixels))).toEqual(b.map((s) => hash(s.pixels)));
    expect(a.map((s) => s.label)).toEqual(b.map((s) => s.label));
    const c = driftedDigits(50, 8, 'heldOut');
    expect(c.map((s) => hash(s.pixels))).not.toEqual(a.map((s) => hash(s.pixels)));
  });

  it('keeps each label and changes the digit: thicker strokes than its MNIST source', () => {
    const { heldOut } = mnistSplit();
    const ink = (pixels: Float32Array) => pixels.reduce((sum, v) => sum + v, 0);
    const drifted = driftedDigits(200, 3, 'heldOut');
    const ratios = drifted.map((sample) => {
      const source = heldOut[sample.source.index];
      expect(sample.label).toBe(source.label);
      expect(sample.pixels.length).toBe(784);
      return ink(sample.pixels) / ink(source.pixels);
    });
    ratios.sort((a, b) => a - b);
    // Half again as much ink for the median digit, although the drift also shrinks digits a little.
    expect(ratios[ratios.length / 2]).toBeGreaterThan(1.3);
    expect(ratios.filter((r) => r > 1).length / ratios.length).toBeGreaterThan(0.95);
  });

  it('draws training and evaluation digits from disjoint MNIST digits, without repeats', () => {
    const { train, heldOut } = mnistSplit();
    const forTraining = driftedDigits(600, 1, 'train');
    const forEvaluation = driftedDigits(1000, 1, 'heldOut');
    expect(new Set(forTraining.map((s) => s.source.index)).size).toBe(600);
    expect(new Set(forEvaluation.map((s) => s.source.index)).size).toBe(1000);
    const trainSources = new Set(forTraining.map((s) => hash(train[s.source.index].pixels)));
    expect(forEvaluation.filter((s) => trainSources.has(hash(heldOut[s.source.index].pixels)))).toEqual([]);
    const trainPixels = new Set(forTraining.map((s) => hash(s.pixels)));
    expect(forEvaluation.filter((s) => trainPixels.has(hash(s.pixels)))).toEqual([]);
  });
});
