import { describe, expect, it } from 'vitest';
import { boxScoreFast } from '../../src/app/ocr/boxScoreFast';
import { convexHull } from '../../src/app/ocr/convexHull';
import { getMiniBox } from '../../src/app/ocr/getMiniBox';
import { minAreaRect } from '../../src/app/ocr/minAreaRect';
import { orderPointsClockwise } from '../../src/app/ocr/orderPointsClockwise';
import { sortBoxes } from '../../src/app/ocr/sortBoxes';
import type { Point, Quad } from '../../src/app/ocr/types';
import { unclipBox } from '../../src/app/ocr/unclipBox';

const rotate = ([x, y]: Point, degrees: number, [cx, cy]: Point = [0, 0]): Point => {
  const r = (degrees * Math.PI) / 180;
  return [cx + (x - cx) * Math.cos(r) - (y - cy) * Math.sin(r), cy + (x - cx) * Math.sin(r) + (y - cy) * Math.cos(r)];
};
const expectQuad = (actual: Quad, expected: Quad, digits = 6) =>
  actual.forEach((p, i) => {
    expect(p[0]).toBeCloseTo(expected[i][0], digits);
    expect(p[1]).toBeCloseTo(expected[i][1], digits);
  });

describe('convexHull', () => {
  it('keeps the outer points only', () => {
    const hull = convexHull([
      [0, 0],
      [2, 0],
      [1, 1],
      [2, 2],
      [0, 2],
      [1, 0],
      [1, 2],
    ]);
    expect(hull).toHaveLength(4);
    expect(hull).toEqual(
      expect.arrayContaining([
        [0, 0],
        [2, 0],
        [2, 2],
        [0, 2],
      ]),
    );
  });
});

describe('minAreaRect', () => {
  it('finds the rotated rectangle around rotated points', () => {
    const points: Point[] = [];
    for (let x = 0; x <= 40; x += 2) for (let y = 0; y <= 10; y += 2) points.push(rotate([x, y], 12, [20, 5]));
    const rect = minAreaRect(points);
    expect(Math.max(rect.width, rect.height)).toBeCloseTo(40, 6);
    expect(Math.min(rect.width, rect.height)).toBeCloseTo(10, 6);
  });

  it('degenerates to zero width on a line (DB then drops it: short side < 3)', () => {
    expect(
      Math.min(
        ...Object.values(
          minAreaRect([
            [0, 0],
            [5, 0],
            [9, 0],
          ]),
        ).filter((v) => typeof v === 'number'),
      ),
    ).toBe(0);
  });
});

describe('getMiniBox', () => {
  it('orders the rectangle top-left, top-right, bottom-right, bottom-left and reports its short side', () => {
    const { box, shortSide } = getMiniBox([
      [10, 20],
      [50, 20],
      [50, 30],
      [10, 30],
      [30, 25],
    ]);
    expectQuad(box, [
      [10, 20],
      [50, 20],
      [50, 30],
      [10, 30],
    ]);
    expect(shortSide).toBeCloseTo(10, 6);
  });

  it('keeps that order for a box tilted up to the right', () => {
    const corners = (
      [
        [0, 0],
        [40, 0],
        [40, 10],
        [0, 10],
      ] as Point[]
    ).map((p) => rotate(p, -5));
    const { box } = getMiniBox(corners);
    expectQuad(box, corners as Quad);
  });
});

describe('unclipBox', () => {
  it('grows a rectangle by area × ratio / perimeter on every side', () => {
    const d = (40 * 1.5) / 28; // 10 × 4 box
    expectQuad(
      unclipBox(
        [
          [0, 0],
          [10, 0],
          [10, 4],
          [0, 4],
        ],
        1.5,
      ),
      [
        [-d, -d],
        [10 + d, -d],
        [10 + d, 4 + d],
        [-d, 4 + d],
      ],
    );
  });

  it('grows along the box’s own axes when it is rotated', () => {
    const box = (
      [
        [0, 0],
        [10, 0],
        [10, 4],
        [0, 4],
      ] as Point[]
    ).map((p) => rotate(p, 30)) as Quad;
    const grown = unclipBox(box, 1.5);
    const d = (40 * 1.5) / 28;
    expect(Math.hypot(grown[1][0] - grown[0][0], grown[1][1] - grown[0][1])).toBeCloseTo(10 + 2 * d, 6);
    expect(Math.hypot(grown[3][0] - grown[0][0], grown[3][1] - grown[0][1])).toBeCloseTo(4 + 2 * d, 6);
  });
});

describe('boxScoreFast', () => {
  it('averages the probability inside the box', () => {
    const width = 10;
    const map = new Float32Array(100);
    for (let y = 2; y <= 5; y++) for (let x = 2; x <= 7; x++) map[y * width + x] = 1;
    expect(
      boxScoreFast(map, 10, 10, [
        [2, 2],
        [7, 2],
        [7, 5],
        [2, 5],
      ]),
    ).toBe(1);
    expect(
      boxScoreFast(map, 10, 10, [
        [2, 2],
        [7, 2],
        [7, 7],
        [2, 7],
      ]),
    ).toBeCloseTo(24 / 36, 6);
  });
});

describe('orderPointsClockwise', () => {
  it('starts at the top-left corner and goes clockwise, whatever the input order', () => {
    const expected: Quad = [
      [1, 1],
      [9, 2],
      [8, 6],
      [0, 5],
    ];
    expect(
      orderPointsClockwise([
        [8, 6],
        [0, 5],
        [9, 2],
        [1, 1],
      ]),
    ).toEqual(expected);
    expect(
      orderPointsClockwise([
        [0, 5],
        [1, 1],
        [8, 6],
        [9, 2],
      ]),
    ).toEqual(expected);
  });
});

describe('sortBoxes', () => {
  const at = (x: number, y: number, id: string) => ({
    id,
    box: [
      [x, y],
      [x + 5, y],
      [x + 5, y + 5],
      [x, y + 5],
    ] as Quad,
  });
  it('reads top to bottom, and left to right within 10 px of height', () => {
    const sorted = sortBoxes([
      at(50, 104, 'line 2 right'),
      at(0, 100, 'line 1 left'),
      at(40, 95, 'line 1 right'),
      at(0, 110, 'line 2 left'),
    ]);
    expect(sorted.map((b) => b.id)).toEqual(['line 1 left', 'line 1 right', 'line 2 left', 'line 2 right']);
  });
});
