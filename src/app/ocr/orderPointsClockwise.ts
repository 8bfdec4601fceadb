import type { Point, Quad } from './types';

/**
 * PaddleOCR's TextDetector.order_points_clockwise: top-left has the smallest x + y, bottom-right the
 * largest; of the other two, top-right has the smaller y − x.
 */
export function orderPointsClockwise(points: Quad): Quad {
  const sum = (i: number) => points[i][0] + points[i][1];
  let first = 0;
  for (let i = 1; i < 4; i++) if (sum(i) < sum(first)) first = i;
  let third = first === 0 ? 1 : 0;
  for (let i = 0; i < 4; i++) if (i !== first && sum(i) > sum(third)) third = i;
  const [a, b] = points.filter((_, i) => i !== first && i !== third);
  const [topRight, bottomLeft] = a[1] - a[0] <= b[1] - b[0] ? [a, b] : [b, a];
  const copy = (p: Point): Point => [p[0], p[1]];
  return [copy(points[first]), copy(topRight), copy(points[third]), copy(bottomLeft)];
}
