import { describe, expect, it } from 'vitest';
import { stripTensor } from '../../src/app/ocr/stripTensor';
import type { RgbaImage } from '../../src/app/ocr/types';

const solid = (width: number, height: number, rgb: [number, number, number]): RgbaImage => {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...rgb, 255], i * 4);
  return { width, height, data };
};

describe('stripTensor', () => {
  it('scales each crop to 48 px high, keeps its aspect, pads the rest with 0', () => {
    const tensor = stripTensor([solid(50, 24, [255, 255, 255]), solid(10, 20, [0, 0, 255])], 48, 192);
    expect(tensor.dims).toEqual([2, 3, 48, 192]);
    const data = tensor.data as Float32Array;
    const value = (n: number, c: number, y: number, x: number) => data[((n * 3 + c) * 48 + y) * 192 + x];
    expect(value(0, 0, 0, 0)).toBe(1); // white → (1 − 0.5) / 0.5
    expect(value(0, 1, 47, 99)).toBe(1); // 50 × 24 → 100 × 48
    expect(value(0, 2, 20, 100)).toBe(0); // padding
    expect(value(1, 0, 10, 23)).toBe(1); // blue in channel 0 (BGR); 10 × 20 → 24 × 48
    expect(value(1, 2, 10, 23)).toBe(-1);
    expect(value(1, 0, 10, 24)).toBe(0);
  });

  it('squeezes crops wider than the strip', () => {
    const data = stripTensor([solid(400, 20, [255, 255, 255])], 48, 192).data as Float32Array;
    expect(data[191]).toBe(1);
  });
});
