import type { ElementType, Feeds, TensorArray, TensorData } from './protocol';
import type { TensorSpec } from './schema/TensorSpec';
import { isFixedDim } from './normalizeDim';
import { ownValue } from './ownValue';

export interface SampleHint {
  /** Concrete dims per input, for inputs with symbolic dims. */
  dims?: Record<string, number[]>;
  /** A constant value per input (e.g. a sample-rate scalar). */
  fill?: Record<string, number>;
}

/**
 * Deterministic, non-constant inputs for warm-up and smoke runs. Only fixed dims size the buffers:
 * symbolic dims (named, `'?'`, or a raw free-dim marker such as -1 or 2³²−1) default to 1, or to
 * `freeDim` past the first (batch) dim.
 */
export function sampleFeeds(inputs: TensorSpec[], hint: SampleHint = {}, freeDim = 1): Feeds {
  const feeds: Feeds = {};
  const allDims = sampleDims(inputs, hint, freeDim);
  for (const spec of inputs) {
    const dims = allDims[spec.name];
    const size = dims.reduce((a, b) => a * b, 1);
    const fill = ownValue(hint.fill, spec.name);
    // The type/array pairing is makeArray's switch; TypeScript cannot follow it through spec.type.
    feeds[spec.name] = { type: spec.type, dims, data: makeArray(spec.type, size, fill) } as TensorData;
  }
  return feeds;
}

/** The dims `sampleFeeds` gives each input, without making the data. */
export function sampleDims(inputs: TensorSpec[], hint: SampleHint = {}, freeDim = 1): Record<string, number[]> {
  const dims: Record<string, number[]> = {};
  for (const spec of inputs) {
    dims[spec.name] = ownValue(hint.dims, spec.name) ?? spec.shape.map((d, i) => (isFixedDim(d) && d > 0 ? d : i === 0 ? 1 : freeDim));
  }
  return dims;
}

function makeArray(type: ElementType, size: number, fill?: number): TensorArray {
  const value = (i: number) => fill ?? ((i * 7919) % 97) / 97;
  switch (type) {
    case 'float32':
      return Float32Array.from({ length: size }, (_, i) => value(i));
    case 'float64':
      return Float64Array.from({ length: size }, (_, i) => value(i));
    case 'float16':
      return Uint16Array.from({ length: size }, () => 0x3c00); // 1.0
    case 'int8':
      return Int8Array.from({ length: size }, (_, i) => fill ?? i % 7);
    case 'uint8':
      return Uint8Array.from({ length: size }, (_, i) => fill ?? i % 7);
    case 'bool':
      return Uint8Array.from({ length: size }, (_, i) => (fill ?? i) % 2);
    case 'int16':
      return Int16Array.from({ length: size }, (_, i) => fill ?? i % 7);
    case 'uint16':
      return Uint16Array.from({ length: size }, (_, i) => fill ?? i % 7);
    case 'int32':
      return Int32Array.from({ length: size }, (_, i) => fill ?? i % 7);
    case 'uint32':
      return Uint32Array.from({ length: size }, (_, i) => fill ?? i % 7);
    case 'int64':
      return BigInt64Array.from({ length: size }, (_, i) => BigInt(fill ?? i % 7));
    case 'uint64':
      return BigUint64Array.from({ length: size }, (_, i) => BigInt(fill ?? i % 7));
    case 'string':
      return Array.from({ length: size }, (_, i) => String(i));
  }
}
