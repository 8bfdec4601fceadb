import type { Point, Quad } from './types';

/** A 3×3 homography, row-major, with h[8] = 1. */
export type Homography = Float64Array;

/**
 * `cv2.getPerspectiveTransform`: the homography mapping each `from[i]` onto `to[i]`, by solving the
 * 8×8 linear system with partial pivoting.
 */
export function getPerspectiveTransform(from: Quad, to: Quad): Homography {
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i];
    const [u, v] = to[i];
    a.push([x, y, 1, 0, 0, 0, -x * u, -y * u, u]);
    a.push([0, 0, 0, x, y, 1, -x * v, -y * v, v]);
  }
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let row = col + 1; row < 8; row++) if (Math.abs(a[row][col]) > Math.abs(a[pivot][col])) pivot = row;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const p = a[col][col];
    if (Math.abs(p) < 1e-12) throw new RangeError('Degenerate quadrilateral: no perspective transform');
    for (let row = 0; row < 8; row++) {
      if (row === col) continue;
      const f = a[row][col] / p;
      if (f === 0) continue;
      for (let k = col; k < 9; k++) a[row][k] -= f * a[col][k];
    }
  }
  const h = new Float64Array(9);
  for (let i = 0; i < 8; i++) h[i] = a[i][8] / a[i][i];
  h[8] = 1;
  return h;
}

export function applyHomography(h: Homography, [x, y]: Point): Point {
  const w = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
}
