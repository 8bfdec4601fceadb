import { toFloat16Bits } from '../../src/core/float16';
import { mulberry32 } from '../../scripts/onnx/mulberry32';
import type { ElementType } from '../../src/core/protocol';
import type { TensorSpec } from '../../src/core/schema/TensorSpec';
import type { ModelEntry } from '../../src/registry/ModelEntry';
import type { Feeds, TensorArray, TensorData } from '../../src/core/protocol';

export interface MakeInputsOptions {
  /** Same seed, same feeds. Default 1. */
  seed?: number;
  /** Concrete dims per input; overrides the entry's `sample.dims`. Symbolic dims otherwise default to 1. */
  dims?: Record<string, number[]>;
}

/** Default value ranges per element type (a registry `sample.range` overrides them). */
const DEFAULT_RANGES: Record<ElementType, [number, number]> = {
  float32: [-1, 1],
  float16: [-1, 1],
  float64: [-1, 1],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-1000, 1000],
  uint16: [0, 1000],
  int32: [-100_000, 100_000],
  uint32: [0, 100_000],
  int64: [-1_000_000, 1_000_000],
  uint64: [0, 1_000_000],
  bool: [0, 1],
  string: [0, 1],
};

/**
 * Deterministic, non-constant feeds for a model, as plain `{type, data, dims}` (float16 as Uint16Array
 * bits, int64 as BigInt64Array, bool as Uint8Array). Floats are a sine along the last axis plus seeded
 * noise inside the input's range (audio-like for VAD, image-like for OCR); `sample.fill` inputs are constant.
 */
export function makeInputs(entry: Pick<ModelEntry, 'id' | 'inputs' | 'sample'>, options: MakeInputsOptions = {}): Feeds {
  const seed = options.seed ?? 1;
  const feeds: Feeds = {};
  for (const spec of entry.inputs) {
    const dims = options.dims?.[spec.name] ?? entry.sample?.dims?.[spec.name] ?? spec.shape.map((d) => (typeof d === 'number' ? d : 1));
    checkDims(entry.id, spec, dims);
    const fill = entry.sample?.fill?.[spec.name];
    const range = entry.sample?.range?.[spec.name] ?? DEFAULT_RANGES[spec.type];
    feeds[spec.name] = makeTensor(spec.type, dims, range, fill, seed * 7919 + hash(spec.name));
  }
  return feeds;
}

function makeTensor(type: ElementType, dims: number[], [low, high]: [number, number], fill: number | undefined, seed: number): TensorData {
  const size = dims.reduce((a, b) => a * b, 1);
  const random = mulberry32(seed);
  const period = Math.max(2, dims[dims.length - 1] ?? 1);
  const float = (i: number): number => {
    const wave = Math.sin((2 * Math.PI * 3 * i) / period + seed);
    const unit = 0.6 * wave + 0.4 * (random() * 2 - 1); // in [-1, 1]
    return low + ((unit + 1) / 2) * (high - low);
  };
  const integer = (): number => Math.floor(low + random() * (high - low + 1));
  const values: number[] = Array.from({ length: size }, (_, i) => {
    if (fill !== undefined) return fill;
    if (type === 'float32' || type === 'float64' || type === 'float16') return float(i);
    if (type === 'bool') return random() < 0.5 ? 0 : 1;
    return integer();
  });
  if (fill === undefined && size > 1 && values.every((v) => v === values[0])) values[1] = values[0] === low ? high : low;
  return { type, dims, data: toArray(type, values) } as TensorData;
}

function toArray(type: ElementType, values: number[]): TensorArray {
  switch (type) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'float16':
      return Uint16Array.from(values, toFloat16Bits);
    case 'int8':
      return Int8Array.from(values);
    case 'uint8':
      return Uint8Array.from(values);
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case 'int16':
      return Int16Array.from(values);
    case 'uint16':
      return Uint16Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'uint32':
      return Uint32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(v));
    case 'uint64':
      return BigUint64Array.from(values, (v) => BigInt(v));
    case 'string':
      return values.map((v, i) => `s${i}_${v}`);
  }
}

function checkDims(id: string, spec: TensorSpec, dims: number[]): void {
  const fits = dims.length === spec.shape.length && dims.every((d, i) => typeof spec.shape[i] !== 'number' || spec.shape[i] === d);
  if (!fits) throw new Error(`makeInputs(${id}): dims [${dims}] do not fit ${spec.name} shape ${JSON.stringify(spec.shape)}`);
}

/** Per-input seed offset, so adding an input never changes the data of the others. */
function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
