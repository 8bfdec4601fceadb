// Robust aggregation: what one client, or a few, can do to a round.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/mulberry32';
import { aggregateUpdates, type ClientUpdate } from '../../src/federated/aggregateUpdates';
import { privacyEpsilon } from '../../src/federated/privacyEpsilon';

const norm = (u: { dW: ArrayLike<number>; db: ArrayLike<number> }) =>
  Math.sqrt([...Array.from(u.dW), ...Array.from(u.db)].reduce((s, v) => s + v * v, 0));

function honest(count: number, seed = 1): ClientUpdate[] {
  const random = mulberry32(seed);
  // Every honest client moves the head the same way (0.1 on each coordinate), give or take some noise.
  return Array.from({ length: count }, (_, i) => ({
    installId: `honest-${i}`,
    dW: Array.from({ length: 12 }, () => 0.1 + (random() - 0.5) * 0.02),
    db: Array.from({ length: 3 }, () => 0.1 + (random() - 0.5) * 0.02),
    examples: 20,
  }));
}
const options = { clipNorm: 1, maxExamplesPerClient: 50, trimFraction: 0.2 };

describe('aggregateUpdates', () => {
  it('clips every update to clipNorm before it counts', () => {
    const big = { installId: 'big', dW: Array(12).fill(5), db: Array(3).fill(5), examples: 20 };
    const result = aggregateUpdates([big], { ...options, trimFraction: 0 });
    expect(norm(result)).toBeCloseTo(1, 9);
    expect(result).toMatchObject({ clipped: 1, clients: 1 });
  });

  it('caps the weight of a client that claims many examples', () => {
    const updates = [
      { installId: 'a', dW: Array(12).fill(0.1), db: Array(3).fill(0.1), examples: 50 },
      { installId: 'liar', dW: Array(12).fill(-0.1), db: Array(3).fill(-0.1), examples: 1_000_000 },
    ];
    const result = aggregateUpdates(updates, { ...options, trimFraction: 0 });
    // Both count 50: the mean is 0, not the liar's −0.1.
    for (const v of result.dW) expect(v).toBeCloseTo(0, 12);
    expect(result.examples).toBe(100);
  });

  it('cuts the extremes of every coordinate: 2 of 20 poisoned updates (scaled ×10, opposite sign) do not steer it', () => {
    const updates = [
      ...honest(18),
      ...[0, 1].map((i) => ({ installId: `bad-${i}`, dW: Array(12).fill(-1), db: Array(3).fill(-1), examples: 50 })),
    ];
    const robust = aggregateUpdates(updates, { ...options, clipNorm: 10 });
    expect(robust.trimmedPerSide).toBe(4);
    for (const v of [...robust.dW, ...robust.db]) expect(v).toBeGreaterThan(0.09);
    // Without trimming the two would pull every coordinate below zero.
    const plain = aggregateUpdates(updates, { ...options, clipNorm: 10, trimFraction: 0 });
    for (const v of plain.dW) expect(v).toBeLessThan(0);
  });

  it('keeps at least one client when trimming (n = 1, 2, 3)', () => {
    for (const n of [1, 2, 3]) {
      const result = aggregateUpdates(honest(n), { ...options, trimFraction: 0.45 });
      expect(result.trimmedPerSide).toBeLessThanOrEqual(Math.floor((n - 1) / 2));
      for (const v of result.dW) expect(v).toBeGreaterThan(0.08);
    }
  });

  it('refuses updates of different shapes and an empty round', () => {
    expect(() => aggregateUpdates([], options)).toThrow(/no updates/);
    const [a] = honest(1);
    expect(() => aggregateUpdates([a, { ...a, dW: Array.from(a.dW).slice(1) }], options)).toThrow(/shapes/);
  });

  it('with a noise multiplier: the unweighted mean of the clipped updates plus noise of sd z·clip/n', () => {
    const updates = honest(10).map((u, i) => ({ ...u, examples: i + 1 }));
    const exact = aggregateUpdates(updates, { ...options, trimFraction: 0, maxExamplesPerClient: 1 });
    // A "noise" source that always draws 1: every coordinate moves by exactly z·clip/n.
    const noisy = aggregateUpdates(updates, { ...options, noiseMultiplier: 2, gaussian: () => 1 });
    expect(noisy.method).toBe('dp-gaussian');
    expect(noisy.trimmedPerSide).toBe(0);
    noisy.dW.forEach((v, j) => expect(v).toBeCloseTo(exact.dW[j] + (2 * 1) / 10, 12));
    // Real noise has about that spread.
    const many = aggregateUpdates(honest(4), { ...options, clipNorm: 1, noiseMultiplier: 1 });
    const spread = Math.sqrt(many.dW.reduce((s, v) => s + (v - 0.1) ** 2, 0) / many.dW.length);
    expect(spread).toBeGreaterThan(0.05);
    expect(spread).toBeLessThan(0.6);
  });
});

describe('privacyEpsilon (Gaussian mechanism, RDP composition)', () => {
  it('is the minimum over α of T·α/(2σ²) + log(1/δ)/(α − 1)', () => {
    for (const [sigma, rounds, delta] of [
      [1, 10, 1e-5],
      [0.8, 3, 1e-6],
      [4, 100, 1e-5],
    ]) {
      let best = Infinity;
      for (let alpha = 1.001; alpha < 2000; alpha *= 1.001)
        best = Math.min(best, (rounds * alpha) / (2 * sigma * sigma) + Math.log(1 / delta) / (alpha - 1));
      expect(privacyEpsilon({ noiseMultiplier: sigma, rounds, delta })).toBeCloseTo(best, 3);
    }
  });

  it('grows with rounds, shrinks with noise; no noise is no privacy', () => {
    const e = (noiseMultiplier: number, rounds: number) => privacyEpsilon({ noiseMultiplier, rounds, delta: 1e-5 });
    expect(e(1, 20)).toBeGreaterThan(e(1, 10));
    expect(e(2, 10)).toBeLessThan(e(1, 10));
    expect(e(0, 10)).toBe(Infinity);
    expect(e(1, 0)).toBe(0);
  });
});
