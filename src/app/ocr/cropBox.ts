import { applyHomography, getPerspectiveTransform } from './getPerspectiveTransform';
import type { Quad, RgbaImage } from './types';

/**
 * PaddleOCR's get_rotate_crop_image: warp the (possibly rotated, possibly skewed) box to an upright
 * rectangle as wide as its longer horizontal edge and as tall as its longer vertical edge, sampling
 * bicubically with replicated borders (cv2.warpPerspective, INTER_CUBIC, BORDER_REPLICATE). A crop at
 * least 1.5× taller than wide is vertical text and is turned 90° counter-clockwise (np.rot90).
 * The recogniser later scales the strip to 48 px high.
 */
export function cropBox(image: RgbaImage, box: Quad): RgbaImage {
  const edge = (a: number, b: number) => Math.hypot(box[a][0] - box[b][0], box[a][1] - box[b][1]);
  const width = Math.max(1, Math.trunc(Math.max(edge(0, 1), edge(2, 3))));
  const height = Math.max(1, Math.trunc(Math.max(edge(0, 3), edge(1, 2))));
  // Map each destination pixel back into the source.
  const toSource = getPerspectiveTransform(
    [
      [0, 0],
      [width, 0],
      [width, height],
      [0, height],
    ],
    box,
  );
  const out = new Uint8ClampedArray(width * height * 4);
  const pixel = new Float64Array(4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = applyHomography(toSource, [x, y]);
      sampleBicubic(image, sx, sy, pixel);
      const o = (y * width + x) * 4;
      for (let k = 0; k < 4; k++) out[o + k] = Math.round(pixel[k]);
    }
  }
  const crop = { width, height, data: out };
  return height / width >= 1.5 ? rotate90CounterClockwise(crop) : crop;
}

/** OpenCV's cubic kernel (a = −0.75) at the four taps around a fractional position t ∈ [0, 1). */
function cubicWeights(t: number, weights: Float64Array): void {
  const a = -0.75;
  const w = (d: number) => {
    const x = Math.abs(d);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  };
  weights[0] = w(1 + t);
  weights[1] = w(t);
  weights[2] = w(1 - t);
  weights[3] = w(2 - t);
}

const wx = new Float64Array(4);
const wy = new Float64Array(4);

function sampleBicubic(image: RgbaImage, x: number, y: number, out: Float64Array): void {
  const { width, height, data } = image;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  cubicWeights(x - x0, wx);
  cubicWeights(y - y0, wy);
  out.fill(0);
  for (let j = 0; j < 4; j++) {
    const row = Math.min(Math.max(y0 - 1 + j, 0), height - 1) * width;
    for (let i = 0; i < 4; i++) {
      const col = Math.min(Math.max(x0 - 1 + i, 0), width - 1);
      const weight = wx[i] * wy[j];
      const at = (row + col) * 4;
      for (let k = 0; k < 4; k++) out[k] += weight * data[at + k];
    }
  }
}

function rotate90CounterClockwise(image: RgbaImage): RgbaImage {
  const { width, height, data } = image;
  const out = new Uint8ClampedArray(data.length);
  // np.rot90: out[r][c] = in[c][width - 1 - r], out is width rows × height columns.
  for (let r = 0; r < width; r++) {
    for (let c = 0; c < height; c++) {
      const from = (c * width + (width - 1 - r)) * 4;
      out.set(data.subarray(from, from + 4), (r * height + c) * 4);
    }
  }
  return { width: height, height: width, data: out };
}
