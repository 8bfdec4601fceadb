/** The digits model's input side: MNIST digits are 28×28 with the ink fitted in a 20×20 box, centred by mass. */
export const MNIST_SIDE = 28;
const BOX = 20;

/**
 * A drawing (`ink`: one value per pixel of a `width`×`height` canvas, 0 = background, 1 = ink) as the
 * MNIST-style float32 image the digits model takes: the ink's bounding box scaled (area average) to fit
 * 20×20 keeping its aspect, then placed so its centre of mass is at the centre of the 28×28 image, as
 * MNIST was made (http://yann.lecun.com/exdb/mnist/). Row-major, 0 = background, 1 = ink. All zeros
 * when nothing is drawn.
 *
 * @example
 * const image = toMnistInput(inkOf(ctx.getImageData(0, 0, 280, 280)), 280, 280);
 * await model.run({ image: { type: 'float32', data: image, dims: [1, 1, 28, 28] } });
 */
export function toMnistInput(ink: ArrayLike<number>, width: number, height: number): Float32Array {
  const out = new Float32Array(MNIST_SIDE * MNIST_SIDE);
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] <= 0) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  if (x1 < 0) return out;
  const boxW = x1 - x0 + 1;
  const boxH = y1 - y0 + 1;
  const scale = BOX / Math.max(boxW, boxH);
  const w = Math.max(1, Math.round(boxW * scale));
  const h = Math.max(1, Math.round(boxH * scale));
  // Area-average downscale of the bounding box to w×h.
  const small = new Float32Array(w * h);
  for (let sy = 0; sy < h; sy++) {
    const ya = y0 + (sy * boxH) / h;
    const yb = y0 + ((sy + 1) * boxH) / h;
    for (let sx = 0; sx < w; sx++) {
      const xa = x0 + (sx * boxW) / w;
      const xb = x0 + ((sx + 1) * boxW) / w;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(ya); y < Math.ceil(yb); y++) {
        const fy = Math.min(yb, y + 1) - Math.max(ya, y);
        for (let x = Math.floor(xa); x < Math.ceil(xb); x++) {
          const f = fy * (Math.min(xb, x + 1) - Math.max(xa, x));
          sum += f * Math.min(1, Math.max(0, ink[y * width + x]));
          area += f;
        }
      }
      small[sy * w + sx] = area > 0 ? sum / area : 0;
    }
  }
  // Centre of mass of the scaled digit, moved to the image centre (kept inside the image).
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = small[y * w + x];
      mass += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  }
  const left = Math.min(MNIST_SIDE - w, Math.max(0, Math.round(MNIST_SIDE / 2 - cx / mass)));
  const top = Math.min(MNIST_SIDE - h, Math.max(0, Math.round(MNIST_SIDE / 2 - cy / mass)));
  for (let y = 0; y < h; y++) out.set(small.subarray(y * w, (y + 1) * w), (top + y) * MNIST_SIDE + left);
  return out;
}

/** Ink per pixel of a canvas drawn dark on light or light on dark: its alpha (the canvas starts transparent). */
export function inkOf(image: { data: Uint8ClampedArray; width: number; height: number }): Float32Array {
  const ink = new Float32Array(image.width * image.height);
  for (let i = 0; i < ink.length; i++) ink[i] = image.data[i * 4 + 3] / 255;
  return ink;
}
