import type { ElementType, Feeds, TensorData, TensorSpec } from '../index';

/** Sizes and constants for a model's inputs, as a registry entry's `sample` gives them. */
export interface FeedHint {
  /** Concrete dims per input name (symbolic dims default to 1). */
  dims?: Record<string, number[]>;
  /** A constant per input (a sample rate, a zero recurrent state). */
  fill?: Record<string, number>;
}

/** A deterministic, non-constant sequence in [0, 1) for floats and small counts for integers. */
const pattern = (i: number) => ((i * 7919) % 97) / 97;

function tensorOf(type: ElementType, dims: number[], fill: number | undefined): TensorData {
  const length = dims.reduce((a, b) => a * b, 1);
  const real = (i: number) => fill ?? pattern(i);
  const count = (i: number) => fill ?? i % 7;
  const make: Record<ElementType, () => TensorData['data']> = {
    float32: () => Float32Array.from({ length }, (_, i) => real(i)),
    float64: () => Float64Array.from({ length }, (_, i) => real(i)),
    float16: () => new Uint16Array(length).fill(0x3c00), // the raw bits of 1.0
    int8: () => Int8Array.from({ length }, (_, i) => count(i)),
    uint8: () => Uint8Array.from({ length }, (_, i) => count(i)),
    bool: () => Uint8Array.from({ length }, (_, i) => (fill ?? i) % 2),
    int16: () => Int16Array.from({ length }, (_, i) => count(i)),
    uint16: () => Uint16Array.from({ length }, (_, i) => count(i)),
    int32: () => Int32Array.from({ length }, (_, i) => count(i)),
    uint32: () => Uint32Array.from({ length }, (_, i) => count(i)),
    int64: () => BigInt64Array.from({ length }, (_, i) => BigInt(count(i))),
    uint64: () => BigUint64Array.from({ length }, (_, i) => BigInt(count(i))),
    string: () => Array.from({ length }, (_, i) => String(i)),
  };
  return { type, dims, data: make[type]() } as TensorData;
}

/**
 * Inputs for running a model the demo knows nothing about (the playground, the registry runner): every
 * input filled with a fixed pattern, so two backends get the same feeds and their outputs can be compared.
 */
export function generateFeeds(inputs: TensorSpec[], hint: FeedHint = {}): Feeds {
  return Object.fromEntries(
    inputs.map((spec) => {
      const dims = hint.dims?.[spec.name] ?? spec.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      return [spec.name, tensorOf(spec.type, dims, hint.fill?.[spec.name])];
    }),
  );
}
