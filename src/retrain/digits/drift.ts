import { mulberry32 } from '../../core/mulberry32';
import { shuffleInPlace } from '../../core/shuffleInPlace';
import { DIGIT_PIXELS, DIGIT_SIZE, mnistSplit, type DigitSample } from './mnistSplit';

/**
 * How strong the drift is. MNIST's writers use thin pens and mostly upright digits; this population writes
 * with a thick pen and a strong right slant, slightly smaller and off-centre.
 */
export const DRIFT = {
  /** Passes of a 3 × 3 grey-level dilation (each thickens strokes by a pixel on every side). */
  dilations: 1,
  /** Horizontal shear x' = x + shear · (centre − y): positive leans the top to the right. Drawn uniformly in this range. */
  shear: [0.45, 0.7] as const,
  /** Scale about the centre, drawn uniformly in this range. */
  scale: [0.8, 0.95] as const,
  /** Shift in pixels along each axis, drawn uniformly in [-shift, shift]. */
  shiftPx: 2,
};

/**
 * A second drift, the one federated fine-tuning is shown on: a page that does not centre its drawings (no
 * `toMnistInput`) gets digits drawn at about half size near the top-left corner. The digits CNN was only ever
 * shown centred digits, so v1 is near chance on them, while its convolutions still see the strokes: a new
 * dense head can learn to read them.
 */
export const CORNER_DRIFT = {
  /** Scale about the centre, drawn uniformly in this range. */
  scale: [0.45, 0.55] as const,
  /** The digit's centre moves this far up and left, in pixels, drawn uniformly in this range. */
  offsetPx: [5.5, 7.5] as const,
};

/** A drifted digit and the MNIST digit it was made from (`mnistSplit()[from][index]`). */
export interface DriftedDigit extends DigitSample {
  source: { from: 'train' | 'heldOut'; index: number };
}

/**
 * `count` digits in a handwriting style MNIST lacks (thick, slanted strokes), made from MNIST digits of the
 * `from` side of `mnistSplit()` ('train' by default: field data that may be trained on; 'heldOut' for
 * evaluation, so the two never share a source digit). Deterministic: the same arguments give the same
 * pixels. Source digits are drawn without repetition while the side has enough.
 */
export function driftedDigits(count: number, seed: number, from: 'train' | 'heldOut' = 'train'): DriftedDigit[] {
  return drawDrifted('driftedDigits', count, seed, from, (source, between) => {
    let pixels = source;
    for (let pass = 0; pass < DRIFT.dilations; pass++) pixels = dilate(pixels);
    pixels = affine(pixels, {
      shear: between(DRIFT.shear),
      scale: between(DRIFT.scale),
      shiftX: between([-DRIFT.shiftPx, DRIFT.shiftPx]),
      shiftY: between([-DRIFT.shiftPx, DRIFT.shiftPx]),
    });
    return pixels;
  });
}

/**
 * `count` digits of the corner drift (CORNER_DRIFT: half size, near the top-left corner), made from MNIST
 * digits of the `from` side of `mnistSplit()` like `driftedDigits`, deterministically. Strokes are thickened
 * by one dilation first, so that they survive the halving.
 */
export function cornerDigits(count: number, seed: number, from: 'train' | 'heldOut' = 'train'): DriftedDigit[] {
  return drawDrifted('cornerDigits', count, seed, from, (source, between) => {
    const scale = between(CORNER_DRIFT.scale);
    return affine(dilate(source), {
      shear: 0,
      scale,
      shiftX: -between(CORNER_DRIFT.offsetPx),
      shiftY: -between(CORNER_DRIFT.offsetPx),
    });
  });
}

/** Source digits of one side in a seeded order (without repetition while the side has enough), each transformed. */
function drawDrifted(
  what: string,
  count: number,
  seed: number,
  from: 'train' | 'heldOut',
  transform: (pixels: Float32Array, between: (range: readonly [number, number]) => number) => Float32Array,
): DriftedDigit[] {
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`${what}: count must be an integer >= 0, got ${count}`);
  const pool = mnistSplit()[from];
  const random = mulberry32(seed);
  const order = pool.map((_, i) => i);
  shuffleInPlace(order, random);
  const between = ([low, high]: readonly [number, number]) => low + (high - low) * random();
  return Array.from({ length: count }, (_, k) => {
    const index = order[k % order.length];
    const source = pool[index];
    return { pixels: transform(source.pixels, between), label: source.label, source: { from, index } };
  });
}

/** Grey-level dilation with a 3 × 3 square: each pixel becomes the brightest of its neighbourhood. */
function dilate(pixels: Float32Array): Float32Array {
  const out = new Float32Array(DIGIT_PIXELS);
  for (let y = 0; y < DIGIT_SIZE; y++)
    for (let x = 0; x < DIGIT_SIZE; x++) {
      let max = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const sy = y + dy;
          const sx = x + dx;
          if (sy >= 0 && sy < DIGIT_SIZE && sx >= 0 && sx < DIGIT_SIZE) max = Math.max(max, pixels[sy * DIGIT_SIZE + sx]);
        }
      out[y * DIGIT_SIZE + x] = max;
    }
  return out;
}

/** Shear, scale about the centre and shift, by inverse mapping with bilinear interpolation (outside = background). */
function affine(pixels: Float32Array, t: { shear: number; scale: number; shiftX: number; shiftY: number }): Float32Array {
  const centre = (DIGIT_SIZE - 1) / 2;
  const at = (x: number, y: number) => (x >= 0 && x < DIGIT_SIZE && y >= 0 && y < DIGIT_SIZE ? pixels[y * DIGIT_SIZE + x] : 0);
  const out = new Float32Array(DIGIT_PIXELS);
  for (let y = 0; y < DIGIT_SIZE; y++)
    for (let x = 0; x < DIGIT_SIZE; x++) {
      // Output (x, y) = shift + scale · shear(source); invert step by step.
      const v = (y - t.shiftY - centre) / t.scale;
      const u = (x - t.shiftX - centre) / t.scale + t.shear * v;
      const sx = u + centre;
      const sy = v + centre;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const value =
        at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy;
      out[y * DIGIT_SIZE + x] = Math.min(1, Math.max(0, value));
    }
  return out;
}
