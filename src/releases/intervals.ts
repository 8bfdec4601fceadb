// Confidence intervals for the rollout comparisons. Wilson score intervals for one proportion and
// Newcombe's hybrid score interval for a difference of two (Newcombe 1998, method 10) — both keep
// sensible coverage at small n and near 0 or 1, where the Wald interval does not.
// https://en.wikipedia.org/wiki/Binomial_proportion_confidence_interval#Wilson_score_interval

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

const Z = new Map([
  [0.9, 1.6448536],
  [0.95, 1.959964],
  [0.99, 2.5758293],
]);

/** The two-sided normal quantile for a confidence of 0.9, 0.95 or 0.99. */
export function zFor(confidence: number): number {
  const z = Z.get(confidence);
  if (z === undefined) throw new RangeError(`confidence must be 0.9, 0.95 or 0.99, got ${confidence}`);
  return z;
}

/** Wilson score interval of k successes in n; n = 0 gives [0, 1] around NaN. */
export function wilson(k: number, n: number, z: number): Interval {
  if (n === 0) return { estimate: Number.NaN, low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Newcombe's interval for p1 − p2 (k1 of n1 against k2 of n2). */
export function differenceOfProportions(k1: number, n1: number, k2: number, n2: number, z: number): Interval {
  const a = wilson(k1, n1, z);
  const b = wilson(k2, n2, z);
  const d = a.estimate - b.estimate;
  return {
    estimate: d,
    low: d - Math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2),
    high: d + Math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2),
  };
}

/**
 * Distribution-free interval for a quantile q of sorted samples: the order statistics whose ranks
 * bound n·q ± z·√(n·q·(1−q)) (the binomial normal approximation).
 */
export function quantileInterval(sorted: ArrayLike<number>, q: number, z: number): Interval {
  const n = sorted.length;
  if (n === 0) return { estimate: Number.NaN, low: Number.NaN, high: Number.NaN };
  const at = (rank: number) => sorted[Math.min(n - 1, Math.max(0, rank))];
  const spread = z * Math.sqrt(n * q * (1 - q));
  return {
    estimate: at(Math.ceil(n * q) - 1),
    low: at(Math.floor(n * q - spread) - 1),
    high: at(Math.ceil(n * q + spread) - 1),
  };
}
