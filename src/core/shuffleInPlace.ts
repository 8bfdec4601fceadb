/**
 * Shuffle `items` in place (Fisher–Yates, from the end) with `random` in [0, 1): with a seeded generator
 * (mulberry32) the same seed gives the same order on every platform. Returns `items`.
 *
 * @example
 * const order = shuffleInPlace([...samples.keys()], mulberry32(seed));
 */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
