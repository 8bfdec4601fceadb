/**
 * Character error rate: the Levenshtein distance (insertions, deletions, substitutions of one code
 * point each) from `expected` to `actual`, divided by the length of `expected`.
 *
 * @example
 * cer('Total 6.75', 'Tota1 6.75'); // 0.1
 */
export function cer(expected: string, actual: string): number {
  const a = [...expected];
  const b = [...actual];
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  return levenshtein(a, b) / a.length;
}

export function levenshtein(a: readonly string[], b: readonly string[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
