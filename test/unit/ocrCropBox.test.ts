import { describe, expect, it } from 'vitest';
import { cropBox } from '../../src/app/ocr/cropBox';
import { applyHomography, getPerspectiveTransform } from '../../src/app/ocr/getPerspectiveTransform';
import { rotate180 } from '../../src/app/ocr/rotate180';
import type { Quad, RgbaImage } from '../../src/app/ocr/types';

/** Red = x, green = y: every pixel says where it came from. */
function coordinates(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 0, 255], (y * width + x) * 4);
  return { width, height, data };
}
const at = (image: RgbaImage, x: number, y: number) =>
  Array.from(image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 4));

describe('getPerspectiveTransform', () => {
  it('maps each corner onto its target', () => {
    const from: Quad = [
      [0, 0],
      [100, 0],
      [100, 20],
      [0, 20],
    ];
    const to: Quad = [
      [10, 5],
      [108, 12],
      [105, 35],
      [8, 27],
    ];
    const h = getPerspectiveTransform(from, to);
    from.forEach((p, i) => {
      const [x, y] = applyHomography(h, p);
      expect(x).toBeCloseTo(to[i][0], 9);
      expect(y).toBeCloseTo(to[i][1], 9);
    });
  });
});

describe('cropBox', () => {
  it('cuts an axis-aligned box out pixel for pixel', () => {
    const crop = cropBox(coordinates(64, 32), [
      [10, 5],
      [40, 5],
      [40, 17],
      [10, 17],
    ]);
    expect([crop.width, crop.height]).toEqual([30, 12]);
    expect(at(crop, 0, 0)).toEqual([10, 5, 0, 255]);
    expect(at(crop, 29, 11)).toEqual([39, 16, 0, 255]);
  });

  it('straightens a rotated box', () => {
    // A box tilted by atan(3/40) ≈ 4.3°: along its top edge x grows by 40 while y drops by 3.
    const crop = cropBox(coordinates(100, 60), [
      [20, 20],
      [60, 17],
      [61, 29],
      [21, 32],
    ]);
    expect(crop.width).toBe(40);
    expect(crop.height).toBe(12);
    const [r0, g0] = at(crop, 0, 0);
    const [r1, g1] = at(crop, 39, 0);
    expect([r0, g0]).toEqual([20, 20]);
    expect(r1).toBeCloseTo(59, -0.5);
    expect(g1).toBeCloseTo(17, -0.5);
  });

  it('turns tall crops 90° counter-clockwise', () => {
    const crop = cropBox(coordinates(64, 64), [
      [10, 10],
      [20, 10],
      [20, 40],
      [10, 40],
    ]);
    expect([crop.width, crop.height]).toEqual([30, 10]);
    expect(at(crop, 0, 0)).toEqual([19, 10, 0, 255]); // top-left came from the top-right corner
    expect(at(crop, 29, 9)).toEqual([10, 39, 0, 255]);
  });

  it('replicates the border instead of reading outside the image', () => {
    const crop = cropBox(coordinates(16, 16), [
      [0, 0],
      [15, 0],
      [15, 15],
      [0, 15],
    ]);
    expect(at(crop, 0, 0)).toEqual([0, 0, 0, 255]);
  });
});

describe('rotate180', () => {
  it('turns the image upside down', () => {
    const image = rotate180(coordinates(3, 2));
    expect(at(image, 0, 0)).toEqual([2, 1, 0, 255]);
    expect(at(image, 2, 1)).toEqual([0, 0, 0, 255]);
  });
});
