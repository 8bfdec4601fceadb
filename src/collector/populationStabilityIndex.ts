/**
 * Floor for a bin's share. A class absent from one window would make ln(a/e) infinite; flooring at
 * 1e-4 (a common choice in credit-risk PSI practice) keeps PSI finite while still punishing the
 * appearance or disappearance of a class hard.
 */
export const PSI_EPSILON = 1e-4;

/**
 * Population Stability Index of `actual` against `expected`, both given as counts per category:
 * PSI = Σ (a_i − e_i) · ln(a_i / e_i) over the union of categories, with shares floored at PSI_EPSILON.
 * Rule of thumb: < 0.1 stable, 0.1–0.2 moderate shift, > 0.2 significant shift.
 *
 * @example populationStabilityIndex(new Map([['cat', 50], ['dog', 50]]), new Map([['cat', 50], ['dog', 50]])) // 0
 */
export function populationStabilityIndex(expected: ReadonlyMap<string, number>, actual: ReadonlyMap<string, number>): number {
  const expectedTotal = sum(expected);
  const actualTotal = sum(actual);
  if (expectedTotal === 0 || actualTotal === 0) return Number.NaN;
  let psi = 0;
  for (const category of new Set([...expected.keys(), ...actual.keys()])) {
    const e = Math.max((expected.get(category) ?? 0) / expectedTotal, PSI_EPSILON);
    const a = Math.max((actual.get(category) ?? 0) / actualTotal, PSI_EPSILON);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

function sum(counts: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const c of counts.values()) total += c;
  return total;
}
