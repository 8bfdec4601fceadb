import type { Quad } from './types';

/**
 * PaddleOCR's box_score_fast: the mean probability inside the box (the box's corners truncated to
 * integers, as `astype(int32)` does; a pixel counts when its centre is inside or on the edge, which is
 * what cv2.fillPoly covers for a convex quad up to its anti-diagonal edge pixels).
 */
export function boxScoreFast(probabilities: Float32Array, width: number, height: number, box: Quad): number {
  const quad = box.map(([x, y]) => [Math.trunc(x), Math.trunc(y)]);
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const xMin = clamp(Math.floor(Math.min(...box.map((p) => p[0]))), width - 1);
  const xMax = clamp(Math.ceil(Math.max(...box.map((p) => p[0]))), width - 1);
  const yMin = clamp(Math.floor(Math.min(...box.map((p) => p[1]))), height - 1);
  const yMax = clamp(Math.ceil(Math.max(...box.map((p) => p[1]))), height - 1);
  // Orientation-independent inside test: all edge cross products share a sign (or are 0).
  let sum = 0;
  let count = 0;
  for (let y = yMin; y <= yMax; y++) {
    for (let x = xMin; x <= xMax; x++) {
      let positive = false;
      let negative = false;
      for (let i = 0; i < 4; i++) {
        const [x1, y1] = quad[i];
        const [x2, y2] = quad[(i + 1) % 4];
        const cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
        if (cross > 0) positive = true;
        else if (cross < 0) negative = true;
      }
      if (positive && negative) continue;
      sum += probabilities[y * width + x];
      count++;
    }
  }
  return count === 0 ? 0 : sum / count;
}
