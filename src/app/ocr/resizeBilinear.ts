import type { RgbaImage } from './types';

/**
 * OpenCV's `cv2.resize(…, INTER_LINEAR)`: pixel centres aligned (src = (dst + 0.5)·scale − 0.5), edges
 * clamped, no anti-aliasing when shrinking — PaddleOCR's models were trained on exactly this.
 */
export function resizeBilinear(image: RgbaImage, width: number, height: number): RgbaImage {
  const { width: srcWidth, height: srcHeight, data: src } = image;
  const out = new Uint8ClampedArray(width * height * 4);
  const xs = axisTaps(srcWidth, width);
  const ys = axisTaps(srcHeight, height);
  for (let y = 0; y < height; y++) {
    const row0 = ys.low[y] * srcWidth;
    const row1 = ys.high[y] * srcWidth;
    const fy = ys.fraction[y];
    for (let x = 0; x < width; x++) {
      const fx = xs.fraction[x];
      const a = (row0 + xs.low[x]) * 4;
      const b = (row0 + xs.high[x]) * 4;
      const c = (row1 + xs.low[x]) * 4;
      const d = (row1 + xs.high[x]) * 4;
      const o = (y * width + x) * 4;
      for (let k = 0; k < 4; k++) {
        const top = src[a + k] + (src[b + k] - src[a + k]) * fx;
        const bottom = src[c + k] + (src[d + k] - src[c + k]) * fx;
        out[o + k] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return { width, height, data: out };
}

function axisTaps(srcSize: number, dstSize: number) {
  const low = new Int32Array(dstSize);
  const high = new Int32Array(dstSize);
  const fraction = new Float32Array(dstSize);
  const scale = srcSize / dstSize;
  for (let i = 0; i < dstSize; i++) {
    const position = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), srcSize - 1);
    low[i] = Math.floor(position);
    high[i] = Math.min(low[i] + 1, srcSize - 1);
    fraction[i] = position - low[i];
  }
  return { low, high, fraction };
}
