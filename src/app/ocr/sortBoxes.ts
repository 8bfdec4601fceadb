import type { Quad } from './types';

/**
 * Reading order, as PaddleOCR's sorted_boxes: by the top-left corner's y then x, then one bubble pass
 * that puts boxes whose tops are within 10 px of each other (one text line) left to right.
 */
export function sortBoxes<T extends { box: Quad }>(items: readonly T[]): T[] {
  const sorted = [...items].sort((a, b) => a.box[0][1] - b.box[0][1] || a.box[0][0] - b.box[0][0]);
  for (let i = 0; i < sorted.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const next = sorted[j + 1].box[0];
      const current = sorted[j].box[0];
      if (Math.abs(next[1] - current[1]) < 10 && next[0] < current[0]) {
        [sorted[j], sorted[j + 1]] = [sorted[j + 1], sorted[j]];
      } else break;
    }
  }
  return sorted;
}
