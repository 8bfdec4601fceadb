import { toFloat16Bits } from '../../../src/core/float16';
import { mulberry32 } from '../../../src/core/mulberry32';

/** How a weight tensor is stored: fp32, fp16, or int8 (per-tensor scale and zero point 0, as onnxruntime's dynamic quantizer writes). */
export type WeightPrecision = 'fp32' | 'fp16' | 'int8';

export const BYTES_PER_WEIGHT: Record<WeightPrecision, number> = { fp32: 4, fp16: 2, int8: 1 };

const CHUNK_VALUES = 1 << 20;

/**
 * The bytes of a weight tensor of `count` values drawn uniformly from ±`limit` (seeded: the same seed gives the same
 * bytes on every machine), as chunks of at most 1 Mi values so a 2 GB tensor never sits in memory. int8 values are
 * the quantized ones (−127..127); their scale is `limit / 127`.
 *
 * @example
 * for (const chunk of weightBytes(1024 * 1024, 'fp16', 0.03, 7)) file.write(chunk)
 */
export function* weightBytes(count: number, precision: WeightPrecision, limit: number, seed: number): Generator<Uint8Array> {
  const random = mulberry32(seed);
  for (let start = 0; start < count; start += CHUNK_VALUES) {
    const n = Math.min(CHUNK_VALUES, count - start);
    if (precision === 'fp32') {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = (random() * 2 - 1) * limit;
      yield new Uint8Array(values.buffer);
    } else if (precision === 'fp16') {
      const values = new Uint16Array(n);
      for (let i = 0; i < n; i++) values[i] = toFloat16Bits((random() * 2 - 1) * limit);
      yield new Uint8Array(values.buffer);
    } else {
      const values = new Int8Array(n);
      for (let i = 0; i < n; i++) values[i] = Math.round((random() * 2 - 1) * 127);
      yield new Uint8Array(values.buffer);
    }
  }
}
