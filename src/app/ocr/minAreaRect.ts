import { convexHull } from './convexHull';
import type { Point, Quad } from './types';

export interface RotatedRect {
  /** The four corners, in order around the rectangle. */
  corners: Quad;
  /** Length of the side along `corners[0] → corners[1]`. */
  width: number;
  /** Length of the side along `corners[1] → corners[2]`. */
  height: number;
}

/**
 * The smallest-area rectangle around the points (what `cv2.minAreaRect` + `cv2.boxPoints` compute), by
 * rotating calipers: one side of the optimum lies along an edge of the convex hull.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0)
    return {
      corners: [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
      width: 0,
      height: 0,
    };
  if (hull.length === 1) {
    const p = hull[0];
    return { corners: [[...p], [...p], [...p], [...p]] as Quad, width: 0, height: 0 };
  }
  let best: { area: number; ux: number; uy: number; min: [number, number]; max: [number, number] } | undefined;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % hull.length];
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (length === 0) continue;
    const ux = (b[0] - a[0]) / length;
    const uy = (b[1] - a[1]) / length;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      minU = Math.min(minU, u);
      maxU = Math.max(maxU, u);
      minV = Math.min(minV, v);
      maxV = Math.max(maxV, v);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (!best || area < best.area - 1e-9) best = { area, ux, uy, min: [minU, minV], max: [maxU, maxV] };
  }
  const { ux, uy, min, max } = best!;
  const at = (u: number, v: number): Point => [u * ux - v * uy, u * uy + v * ux];
  return {
    corners: [at(min[0], min[1]), at(max[0], min[1]), at(max[0], max[1]), at(min[0], max[1])],
    width: max[0] - min[0],
    height: max[1] - min[1],
  };
}
