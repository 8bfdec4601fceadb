import type { Point, Quad } from './types';

/**
 * DB's "unclip": grow the shrunk text kernel back to the text's extent by d = area × ratio / perimeter.
 * PaddleOCR offsets the polygon with pyclipper (round joins) and takes the min-area rectangle of the
 * result; for the rectangle it is given that is exactly the rectangle grown by d on every side (the
 * rounded corners stay inside it), which is what we compute.
 */
export function unclipBox(box: Quad, ratio: number): Quad {
  let area = 0;
  let perimeter = 0;
  for (let i = 0; i < 4; i++) {
    const [x1, y1] = box[i];
    const [x2, y2] = box[(i + 1) % 4];
    area += x1 * y2 - x2 * y1;
    perimeter += Math.hypot(x2 - x1, y2 - y1);
  }
  area = Math.abs(area) / 2;
  if (perimeter === 0) return box.map((p) => [...p]) as Quad;
  const distance = (area * ratio) / perimeter;
  const center: Point = [(box[0][0] + box[2][0]) / 2, (box[0][1] + box[2][1]) / 2];
  const along = unit(box[0], box[1]);
  const across = unit(box[1], box[2]);
  return box.map(([x, y]) => {
    // Push each corner out along both of the rectangle's axes, away from the centre.
    const su = Math.sign((x - center[0]) * along[0] + (y - center[1]) * along[1]);
    const sv = Math.sign((x - center[0]) * across[0] + (y - center[1]) * across[1]);
    return [x + distance * (su * along[0] + sv * across[0]), y + distance * (su * along[1] + sv * across[1])];
  }) as Quad;
}

function unit(a: Point, b: Point): Point {
  const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
  return length === 0 ? [0, 0] : [(b[0] - a[0]) / length, (b[1] - a[1]) / length];
}
