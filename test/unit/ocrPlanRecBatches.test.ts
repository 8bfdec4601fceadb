import { describe, expect, it } from 'vitest';
import { planRecBatches } from '../../src/app/ocr/planRecBatches';
import { stripTensor, stripWidthOf } from '../../src/app/ocr/stripTensor';
import type { RgbaImage } from '../../src/app/ocr/types';

const crop = (width: number, height: number, value = 0): RgbaImage => ({
  width,
  height,
  data: new Uint8ClampedArray(width * height * 4).fill(value),
});
const limits = { batchSize: 2, height: 48, minWidth: 320, maxWidth: 3200 };

describe('planRecBatches', () => {
  it('sorts by aspect ratio, cuts batches, and pads each to its widest line', () => {
    // Ratios: 10, 2, 20, 5, 10 (index 4 ties with 0 and keeps reading order).
    const crops = [crop(300, 30), crop(60, 30), crop(600, 30), crop(150, 30), crop(200, 20)];
    expect(planRecBatches(crops, { ...limits, minFill: 0 })).toEqual([
      { indices: [1, 3], width: 320 }, // widest ratio 5 → 240 px, raised to the 320 minimum
      { indices: [0, 4], width: 480 },
      { indices: [2], width: 960 },
    ]);
  });

  it('ends a batch where it would pad its narrowest line by more than 1 − minFill', () => {
    // Strips of 480, 490, 500, 600 px: 480 / 500 = 0.96 ≥ 0.95, but 480 / 600 = 0.8.
    const crops = [crop(600, 48), crop(480, 48), crop(500, 48), crop(490, 48)];
    expect(planRecBatches(crops, { ...limits, batchSize: 6 })).toEqual([
      { indices: [1, 3, 2], width: 500 },
      { indices: [0], width: 600 },
    ]);
    expect(planRecBatches(crops, { ...limits, batchSize: 6, minFill: 0.8 })).toEqual([{ indices: [1, 3, 2, 0], width: 600 }]);
    // Lines below the minimum width all get the minimum strip anyway, so they batch freely.
    expect(planRecBatches([crop(100, 48), crop(300, 48)], { ...limits, batchSize: 6 })).toEqual([{ indices: [0, 1], width: 320 }]);
  });

  it('is line by line at batch size 1, squeezes to maxWidth, and covers every crop once', () => {
    const crops = [crop(4000, 20), crop(100, 25), crop(700, 35)];
    const plan = planRecBatches(crops, { ...limits, batchSize: 1 });
    expect(plan).toEqual([
      { indices: [1], width: 320 },
      { indices: [2], width: 960 },
      { indices: [0], width: 3200 },
    ]);
    const six = planRecBatches(crops, { ...limits, batchSize: 6, minFill: 0 });
    expect(six).toHaveLength(1);
    expect([...six[0].indices].sort()).toEqual([0, 1, 2]);
    expect(planRecBatches([], limits)).toEqual([]);
  });
});

describe('stripWidthOf and the padding stripTensor adds', () => {
  it('gives the columns a crop fills; the rest of the batch strip is PaddleOCR padding (0 after normalising)', () => {
    const narrow = crop(100, 48, 255);
    const wide = crop(300, 48, 255);
    expect(stripWidthOf(narrow, 48, 320)).toBe(100);
    expect(stripWidthOf(wide, 48, 200)).toBe(200); // squeezed
    const tensor = stripTensor([narrow, wide], 48, 300);
    const data = tensor.data as Float32Array;
    const at = (n: number, x: number) => data[n * 3 * 48 * 300 + 10 * 300 + x];
    expect(at(0, 99)).toBe(1); // white
    expect(at(0, 100)).toBe(0); // padding starts at the crop's own width
    expect(at(1, 299)).toBe(1);
  });
});
