import { describe, expect, it } from 'vitest';
import { dbPostprocess } from '../../src/app/ocr/dbPostprocess';
import { findComponents } from '../../src/app/ocr/findComponents';
import type { Point } from '../../src/app/ocr/types';

/** A probability map with filled (possibly rotated) rectangles of the given probability. */
function mapWith(width: number, height: number, rects: { cx: number; cy: number; w: number; h: number; deg: number; p: number }[]) {
  const data = new Float32Array(width * height).fill(0.02);
  for (const { cx, cy, w, h, deg, p } of rects) {
    const r = (deg * Math.PI) / 180;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const u = (x - cx) * Math.cos(r) + (y - cy) * Math.sin(r);
        const v = -(x - cx) * Math.sin(r) + (y - cy) * Math.cos(r);
        if (Math.abs(u) <= w / 2 && Math.abs(v) <= h / 2) data[y * width + x] = p;
      }
    }
  }
  return { data, width, height };
}
const side = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

describe('findComponents', () => {
  it('joins diagonal neighbours (8-connectivity) and returns border pixels only', () => {
    // prettier-ignore
    const mask = Uint8Array.from([
      1, 1, 1, 0, 0,
      1, 1, 1, 0, 0,
      1, 1, 1, 0, 0,
      0, 0, 0, 1, 0,
      0, 0, 0, 0, 1,
    ]);
    const components = findComponents(mask, 5, 5);
    expect(components).toHaveLength(1);
    expect(components[0]).toHaveLength(10); // 3×3 block minus its centre, plus the diagonal tail
    expect(components[0]).not.toContainEqual([1, 1]);
  });
});

describe('dbPostprocess', () => {
  it('boxes each confident region, grown by the unclip distance, in source-image pixels', () => {
    // Kernel 81 × 11 pixel centres → DB's min-area rect is 80 × 10 (between the outer centres).
    const map = mapWith(320, 160, [{ cx: 100, cy: 40, w: 80, h: 10, deg: 0, p: 0.9 }]);
    const boxes = dbPostprocess(map, 640, 320); // the map is half the image size
    expect(boxes).toHaveLength(1);
    const d = (80 * 10 * 1.5) / 180;
    const [tl, tr, br, bl] = boxes[0].box;
    expect(boxes[0].score).toBeCloseTo(0.9, 5);
    expect(tl[0]).toBeCloseTo(2 * (60 - d), -0.5);
    expect(tl[1]).toBeCloseTo(2 * (35 - d), -0.5);
    expect(side(tl, tr)).toBeCloseTo(2 * (80 + 2 * d), -0.5);
    expect(side(tr, br)).toBeCloseTo(2 * (10 + 2 * d), -0.5);
    expect(side(bl, br)).toBeCloseTo(side(tl, tr), -0.5);
  });

  it('keeps rotated text rotated', () => {
    const boxes = dbPostprocess(mapWith(200, 200, [{ cx: 100, cy: 100, w: 120, h: 14, deg: -6, p: 0.95 }]), 200, 200);
    expect(boxes).toHaveLength(1);
    const [tl, tr] = boxes[0].box;
    expect((Math.atan2(tr[1] - tl[1], tr[0] - tl[0]) * 180) / Math.PI).toBeCloseTo(-6, 0);
  });

  it('drops regions under the box threshold, slivers and specks', () => {
    const map = mapWith(200, 100, [
      { cx: 50, cy: 20, w: 60, h: 10, deg: 0, p: 0.5 }, // above 0.3 but a mean below 0.6
      { cx: 50, cy: 50, w: 60, h: 1, deg: 0, p: 0.9 }, // 2 px high: short side < 3
      { cx: 150, cy: 80, w: 1, h: 1, deg: 0, p: 0.9 },
      { cx: 150, cy: 20, w: 40, h: 8, deg: 0, p: 0.8 },
    ]);
    const boxes = dbPostprocess(map, 200, 100);
    expect(boxes).toHaveLength(1);
    expect(boxes[0].score).toBeCloseTo(0.8, 5);
    expect(dbPostprocess(map, 200, 100, { boxThreshold: 0.4 })).toHaveLength(2);
  });

  it('clips boxes to the image', () => {
    const boxes = dbPostprocess(mapWith(100, 50, [{ cx: 3, cy: 25, w: 40, h: 10, deg: 0, p: 0.9 }]), 100, 50);
    expect(Math.min(...boxes[0].box.map((p) => p[0]))).toBe(0);
  });
});
