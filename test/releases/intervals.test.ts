import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assignBucket } from '../../src/releases/assignBucket';
import { decideRollout } from '../../src/releases/decideRollout';
import { differenceOfProportions, quantileInterval, wilson, zFor } from '../../src/releases/intervals';
import { DEFAULT_ROLLOUT_CONFIG, parseRolloutConfig, policyFor } from '../../src/releases/rolloutPolicy';
import type { VersionCounts } from '../../src/releases/VersionMetrics';

describe('intervals', () => {
  it('Wilson and Newcombe match the published examples', () => {
    // Newcombe (1998), Statistics in Medicine 17:873, table II, method 10: 56/70 − 48/80 → 0.2 (0.0524, 0.3339),
    // 9/10 − 3/10 → 0.6 (0.1705, 0.8090)
    const d = differenceOfProportions(56, 70, 48, 80, zFor(0.95));
    expect(d.estimate).toBeCloseTo(0.2, 6);
    expect(d.low).toBeCloseTo(0.0524, 4);
    expect(d.high).toBeCloseTo(0.3339, 4);
    const small = differenceOfProportions(9, 10, 3, 10, zFor(0.95));
    expect(small.low).toBeCloseTo(0.1705, 4);
    expect(small.high).toBeCloseTo(0.809, 4);
    // Wilson 95 % for 81/263 (Newcombe 1998a, example): 0.2553 to 0.3662
    const w = wilson(81, 263, zFor(0.95));
    expect(w.low).toBeCloseTo(0.2553, 3);
    expect(w.high).toBeCloseTo(0.3662, 3);
  });

  it('the p95 interval brackets the estimate with order statistics', () => {
    const sorted = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
    const q = quantileInterval(sorted, 0.95, zFor(0.95));
    expect(q.estimate).toBe(950);
    expect(q.low).toBeGreaterThanOrEqual(935);
    expect(q.low).toBeLessThan(950);
    expect(q.high).toBeGreaterThan(950);
    expect(q.high).toBeLessThanOrEqual(965);
  });

  it('the bucket is sha256(install:model), first 4 bytes big-endian, mod 100', () => {
    for (const [i, m] of [
      ['a', 'b'],
      ['install-1', 'tiny-mlp'],
      ['x', 'y'],
    ]) {
      const h = createHash('sha256').update(`${i}:${m}`).digest();
      expect(assignBucket(i, m)).toBe(Number(BigInt('0x' + h.subarray(0, 4).toString('hex')) % 100n));
    }
  });
});

const counts = (o: { feedback: number; correct: number; inferences: number; errors?: number; latencyMs?: number }): VersionCounts => ({
  inferences: o.inferences,
  errors: o.errors ?? 0,
  installs: 10,
  feedback: o.feedback,
  correct: o.correct,
  latenciesMs: Float64Array.from({ length: o.inferences }, (_, i) => (o.latencyMs ?? 10) + (i % 5)),
});

describe('decideRollout', () => {
  const policy = {
    ...DEFAULT_ROLLOUT_CONFIG.default,
    minFeedback: 100,
    minInferences: 100,
    rollbackMinFeedback: 50,
    rollbackMinInferences: 50,
  };
  const base = { policy, percent: 10, windowStartMs: 0, stageStartMs: 0 };

  it('holds a candidate that is only a little worse until the evidence is in, and does not roll it back on noise', () => {
    const d = decideRollout({
      ...base,
      candidate: { version: '2', counts: counts({ feedback: 60, correct: 52, inferences: 60 }) },
      stable: { version: '1', counts: counts({ feedback: 600, correct: 540, inferences: 600 }) },
      stage: { feedback: 60, inferences: 60 },
    });
    expect(d.action).toBe('hold');
  });

  it('rolls back on a significant accuracy, error-rate or latency regression', () => {
    const stable = { version: '1', counts: counts({ feedback: 500, correct: 450, inferences: 500 }) };
    const stage = { feedback: 60, inferences: 60 };
    expect(
      decideRollout({ ...base, stable, stage, candidate: { version: '2', counts: counts({ feedback: 60, correct: 30, inferences: 60 }) } })
        .action,
    ).toBe('rollback');
    expect(
      decideRollout({
        ...base,
        stable,
        stage,
        candidate: { version: '2', counts: counts({ feedback: 60, correct: 54, inferences: 200, errors: 40 }) },
      }).reason,
    ).toMatch(/error-rate/);
    expect(
      decideRollout({
        ...base,
        stable,
        stage,
        candidate: { version: '2', counts: counts({ feedback: 60, correct: 54, inferences: 200, latencyMs: 40 }) },
      }).reason,
    ).toMatch(/latency/);
  });

  it('advances to the next stage, and promotes from the last, when not worse', () => {
    const stable = { version: '1', counts: counts({ feedback: 500, correct: 400, inferences: 500 }) };
    // With no errors on either side, Wilson's upper bound for 0 of n stays above the 0.01 margin until n ≈ 380.
    const candidate = { version: '2', counts: counts({ feedback: 200, correct: 190, inferences: 1000 }) };
    const stage = { feedback: 200, inferences: 200 };
    expect(decideRollout({ ...base, percent: 1, stable, candidate, stage })).toMatchObject({ action: 'advance', toPercent: 10 });
    expect(decideRollout({ ...base, percent: 50, stable, candidate, stage })).toMatchObject({ action: 'advance', toPercent: 100 });
  });
});

describe('rollout config', () => {
  it('merges per-model overrides and rejects bad stages', () => {
    const config = parseRolloutConfig({ ...DEFAULT_ROLLOUT_CONFIG, models: { 'tiny-mlp': { stages: [5, 100] } } });
    expect(policyFor(config, 'tiny-mlp').stages).toEqual([5, 100]);
    expect(policyFor(config, 'other').stages).toEqual([1, 10, 50, 100]);
    expect(() => parseRolloutConfig({ ...DEFAULT_ROLLOUT_CONFIG, models: { m: { stages: [50, 10] } } })).toThrow(/stages must increase/);
  });
});
