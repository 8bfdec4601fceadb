import { describe, expect, it } from 'vitest';
import { detPreprocess } from '../../src/app/ocr/detPreprocess';
import { resizeBilinear } from '../../src/app/ocr/resizeBilinear';
import type { RgbaImage } from '../../src/app/ocr/types';

const solid = (width: number, height: number, rgb: [number, number, number]): RgbaImage => {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...rgb, 255], i * 4);
  return { width, height, data };
};

describe('detPreprocess', () => {
  it('rounds sides to multiples of 32 and only ever shrinks to the limit', () => {
    const size = (w: number, h: number, limit?: number) => detPreprocess(solid(w, h, [0, 0, 0]), limit).tensor.dims;
    expect(size(640, 420)).toEqual([1, 3, 416, 640]); // 13.125 → 13 × 32
    expect(size(2000, 1000)).toEqual([1, 3, 480, 960]);
    expect(size(1000, 3000)).toEqual([1, 3, 960, 320]); // 333 → 10.4 → 10 × 32
    expect(size(10, 5)).toEqual([1, 3, 32, 32]); // never below 32
    expect(size(48, 80)).toEqual([1, 3, 64, 64]); // Python's round(): 1.5 → 2 and 2.5 → 2 (not 3)
    expect(size(1200, 600, 640)).toEqual([1, 3, 320, 640]);
  });

  it('normalises with ImageNet statistics in BGR channel order, CHW', () => {
    const { tensor, width, height } = detPreprocess(solid(64, 32, [255, 128, 0]));
    const plane = width * height;
    const data = tensor.data as Float32Array;
    expect(data[0]).toBeCloseTo((0 / 255 - 0.485) / 0.229, 5); // channel 0 = blue
    expect(data[plane + 5]).toBeCloseTo((128 / 255 - 0.456) / 0.224, 5);
    expect(data[2 * plane + 7]).toBeCloseTo((255 / 255 - 0.406) / 0.225, 5); // channel 2 = red
  });
});

describe('resizeBilinear', () => {
  it('matches cv2.resize INTER_LINEAR (half-pixel centres, clamped edges)', () => {
    const row: RgbaImage = { width: 2, height: 1, data: new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 255]) };
    const wide = resizeBilinear(row, 4, 1);
    expect(Array.from(wide.data.filter((_, i) => i % 4 === 0))).toEqual([0, 64, 191, 255]);
    const narrow = resizeBilinear(resizeBilinear(row, 4, 1), 2, 1);
    expect(Array.from(narrow.data.filter((_, i) => i % 4 === 0))).toEqual([32, 223]);
  });

  it('is the identity at the same size', () => {
    const image = solid(3, 2, [1, 2, 3]);
    image.data[5] = 99;
    expect(resizeBilinear(image, 3, 2).data).toEqual(image.data);
  });
});
