/**
 * Percentile of an ascending-sorted sample with linear interpolation between closest ranks
 * (the "R-7" definition numpy and most spreadsheets use). `q` in [0, 1]; NaN for an empty sample.
 *
 * @example percentile(Float64Array.of(1, 2, 3, 4), 0.5) // 2.5
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (q <= 0) return sorted[0];
  if (q >= 1) return sorted[n - 1];
  const rank = q * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Median of an unsorted sample (sorts a copy); the same R-7 definition, so both halves' mean for an even count. */
export function median(sample: readonly number[]): number {
  return percentile(Float64Array.from(sample).sort(), 0.5);
}
