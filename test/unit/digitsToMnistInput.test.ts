import { describe, expect, it } from 'vitest';
import { MNIST_SIDE, toMnistInput } from '../../src/app/digits/toMnistInput';

/** A width×height canvas with a filled rectangle of ink. */
function canvasWith(width: number, height: number, rect: { x: number; y: number; w: number; h: number }): Float32Array {
  const ink = new Float32Array(width * height);
  for (let y = rect.y; y < rect.y + rect.h; y++) for (let x = rect.x; x < rect.x + rect.w; x++) ink[y * width + x] = 1;
  return ink;
}

function box(image: Float32Array): { x0: number; y0: number; x1: number; y1: number; cx: number; cy: number } {
  let [x0, y0, x1, y1, mass, cx, cy] = [99, 99, -1, -1, 0, 0, 0];
  for (let y = 0; y < MNIST_SIDE; y++) {
    for (let x = 0; x < MNIST_SIDE; x++) {
      const v = image[y * MNIST_SIDE + x];
      if (v <= 0) continue;
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      mass += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  }
  return { x0, y0, x1, y1, cx: cx / mass, cy: cy / mass };
}

describe('toMnistInput', () => {
  it('fits a stroke drawn off-centre into a 20-pixel box centred by mass, values within 0..1', () => {
    // A tall bar (a "1") in the top-left corner of a 280×280 canvas.
    const image = toMnistInput(canvasWith(280, 280, { x: 10, y: 5, w: 40, h: 200 }), 280, 280);
    expect(image).toHaveLength(784);
    const b = box(image);
    expect(b.y1 - b.y0 + 1).toBe(20);
    expect(b.x1 - b.x0 + 1).toBe(4);
    expect(Math.abs(b.cx - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(b.cy - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.min(...image)).toBe(0);
    expect(Math.max(...image)).toBeCloseTo(1, 5);
  });

  it('averages partial coverage (a thin line is grey, not dropped) and keeps background 0', () => {
    const image = toMnistInput(canvasWith(280, 280, { x: 100, y: 40, w: 3, h: 200 }), 280, 280);
    const inked = [...image].filter((v) => v > 0);
    expect(inked.length).toBeGreaterThan(0);
    expect(inked.every((v) => v <= 1)).toBe(true);
    expect(image.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('is all zeros for an empty canvas', () => {
    expect(toMnistInput(new Float32Array(100 * 100), 100, 100).every((v) => v === 0)).toBe(true);
  });
});
