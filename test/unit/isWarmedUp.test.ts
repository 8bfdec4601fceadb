import { describe, expect, test } from 'vitest';
import { isWarmedUp, WARMUP_MAX_RUNS, WARMUP_MIN_RUNS } from '../../src/runtime/isWarmedUp';

describe('isWarmedUp', () => {
  test('never before the minimum number of runs, even when they are steady', () => {
    expect(isWarmedUp(Array(WARMUP_MIN_RUNS - 1).fill(5))).toBe(false);
    expect(isWarmedUp(Array(WARMUP_MIN_RUNS).fill(5))).toBe(true);
  });

  test('goes on while the last runs are still well above the fastest (V8 has not tiered up yet)', () => {
    // Baseline-code runs at 3 ms, optimised code arrives and runs take 1 ms: not warm until 3 fast runs.
    const runs = [9, 6, 3, 3, 3, 3, 3, 3, 3, 1, 1];
    expect(isWarmedUp(runs)).toBe(false);
    expect(isWarmedUp([...runs, 1.2])).toBe(true);
    expect(isWarmedUp([...runs, 1.2, 2])).toBe(false);
  });

  test('stops at the maximum number of runs whatever the times', () => {
    const noisy = Array.from({ length: WARMUP_MAX_RUNS }, (_, i) => (i % 2 ? 1 : 5));
    expect(isWarmedUp(noisy.slice(0, -1))).toBe(false);
    expect(isWarmedUp(noisy)).toBe(true);
  });
});
