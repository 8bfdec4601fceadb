import type { TensorData } from '../../index';
import { resizeBilinear } from './resizeBilinear';
import type { RgbaImage } from './types';

/**
 * The batch the PaddleOCR classifier and recogniser take (their resize_norm_img): each crop scaled to
 * `height` keeping its aspect ratio, at most `width` wide (squeezed beyond that), normalised to
 * (x / 255 − 0.5) / 0.5 in BGR order, and zero-padded on the right. float32 [N, 3, height, width].
 */
export function stripTensor(crops: readonly RgbaImage[], height: number, width: number): TensorData {
  const plane = height * width;
  const data = new Float32Array(crops.length * 3 * plane);
  crops.forEach((crop, n) => {
    const resizedWidth = stripWidthOf(crop, height, width);
    const resized = resizeBilinear(crop, resizedWidth, height);
    const base = n * 3 * plane;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < resizedWidth; x++) {
        const i = (y * resizedWidth + x) * 4;
        for (let c = 0; c < 3; c++) {
          data[base + c * plane + y * width + x] = (resized.data[i + (2 - c)] / 255 - 0.5) / 0.5;
        }
      }
    }
  });
  return { type: 'float32', data, dims: [crops.length, 3, height, width] };
}

/** How many of a strip's `width` columns a crop fills once scaled to `height` (the rest is padding). */
export function stripWidthOf(crop: RgbaImage, height: number, width: number): number {
  return Math.min(width, Math.ceil(height * (crop.width / crop.height)));
}
