import { minAreaRect } from './minAreaRect';
import type { Point, Quad } from './types';

/**
 * PaddleOCR's DBPostProcess.get_mini_boxes: the minimum-area rectangle, corners ordered top-left,
 * top-right, bottom-right, bottom-left (decided by sorting on x, then y within each pair), and its
 * shorter side.
 */
export function getMiniBox(points: readonly Point[]): { box: Quad; shortSide: number } {
  const rect = minAreaRect(points);
  // Python's sorted() is stable: equal x keeps boxPoints order, which our corner order stands in for.
  const p = [...rect.corners].sort((a, b) => a[0] - b[0]);
  const [topLeft, bottomLeft] = p[1][1] > p[0][1] ? [p[0], p[1]] : [p[1], p[0]];
  const [topRight, bottomRight] = p[3][1] > p[2][1] ? [p[2], p[3]] : [p[3], p[2]];
  return { box: [topLeft, topRight, bottomRight, bottomLeft], shortSide: Math.min(rect.width, rect.height) };
}
