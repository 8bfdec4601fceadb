import type { RgbaImage } from './types';

/** Turn an image upside down (cv2.rotate ROTATE_180), for lines the direction classifier flags. */
export function rotate180(image: RgbaImage): RgbaImage {
  const pixels = image.width * image.height;
  const out = new Uint8ClampedArray(image.data.length);
  for (let i = 0; i < pixels; i++) out.set(image.data.subarray(i * 4, i * 4 + 4), (pixels - 1 - i) * 4);
  return { width: image.width, height: image.height, data: out };
}
