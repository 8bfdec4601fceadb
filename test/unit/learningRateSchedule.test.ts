import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../src/retrain/digits/trainDigits';

describe('learningRateAt', () => {
  it('is the peak at every step of a constant schedule', () => {
    expect([0, 1, 50, 99].map((step) => learningRateAt('constant', 0.003, step, 100))).toEqual([0.003, 0.003, 0.003, 0.003]);
  });

  it('warms up linearly over the first 10 % of the steps, then decays to 0 along a cosine', () => {
    const steps = 300;
    const rates = Array.from({ length: steps }, (_, step) => learningRateAt('cosine', 0.002, step, steps));
    // Warm-up: 30 steps from 0.002/30 up to the peak at step 29.
    expect(rates[0]).toBeCloseTo(0.002 / 30, 12);
    expect(rates[14]).toBeCloseTo(0.001, 12);
    expect(rates[29]).toBeCloseTo(0.002, 12);
    for (let i = 1; i < 30; i++) expect(rates[i]).toBeGreaterThan(rates[i - 1]);
    // Decay: the peak at step 30, half of it halfway through the decay, strictly falling to ~0 at the last step.
    expect(rates[30]).toBeCloseTo(0.002, 12);
    expect(rates[30 + 135]).toBeCloseTo(0.001, 12);
    for (let i = 31; i < steps; i++) expect(rates[i]).toBeLessThan(rates[i - 1]);
    expect(rates[steps - 1]).toBeLessThan(0.002 * 1e-3);
    expect(rates[steps - 1]).toBeGreaterThan(0);
  });

  it('takes at least one warm-up step on a short run', () => {
    expect(learningRateAt('cosine', 0.002, 0, 3)).toBeCloseTo(0.002, 12);
    expect(learningRateAt('cosine', 0.002, 1, 3)).toBeCloseTo(0.002, 12);
    expect(learningRateAt('cosine', 0.002, 2, 3)).toBeCloseTo(0.001, 12);
  });
});
