import type { TensorData } from '../../index';
import { resizeBilinear } from './resizeBilinear';
import { roundHalfEven } from './roundHalfEven';
import type { RgbaImage } from './types';

// PaddleOCR's NormalizeImage values. They are ImageNet's RGB statistics, yet PaddleOCR applies them to
// its cv2 BGR channels in training (DecodeImage img_mode: BGR in configs/det/ch_PP-OCRv4/*.yml) and in
// inference alike, so channel 0 of the tensor is blue, normalised with 0.485/0.229. We feed the same.
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

export interface DetInput {
  /** float32 [1, 3, height, width], BGR, normalised. */
  tensor: TensorData;
  width: number;
  height: number;
}

/**
 * PaddleOCR's DetResizeForTest (limit_type 'max') + NormalizeImage + ToCHWImage: shrink so the longer
 * side is at most `limitSideLen` (never enlarge), round both sides to multiples of 32, then normalise.
 */
export function detPreprocess(image: RgbaImage, limitSideLen = 960): DetInput {
  const ratio = Math.max(image.width, image.height) > limitSideLen ? limitSideLen / Math.max(image.width, image.height) : 1;
  const height = Math.max(roundHalfEven(Math.trunc(image.height * ratio) / 32) * 32, 32);
  const width = Math.max(roundHalfEven(Math.trunc(image.width * ratio) / 32) * 32, 32);
  const resized = resizeBilinear(image, width, height);
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const value = resized.data[i * 4 + (2 - c)] / 255; // BGR
      data[c * plane + i] = (value - MEAN[c]) / STD[c];
    }
  }
  return { tensor: { type: 'float32', data, dims: [1, 3, height, width] }, width, height };
}
