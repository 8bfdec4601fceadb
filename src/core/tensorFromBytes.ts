import type { ElementType, TensorArray } from './protocol';

type NumericType = Exclude<ElementType, 'string'>;

/** The element types whose values are plain numbers, by the typed array that carries them. */
export const NUMBER_ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
} as const;

/** The typed array that carries each numeric element type (float16 as its raw bits, bool as 0/1 bytes). */
const ARRAY_OF: Record<NumericType, { new (buffer: ArrayBuffer): TensorArray; BYTES_PER_ELEMENT: number }> = {
  ...NUMBER_ARRAYS,
  float16: Uint16Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/**
 * Raw little-endian tensor bytes (the binary tensor data of the Open Inference Protocol) as a typed array
 * of `type`. The bytes are copied into a fresh buffer: where they sit in a body need not be aligned for
 * the element size. The caller checks that `bytes` holds exactly `count` elements (`bytesOfTensor`).
 *
 * @example
 * if (size !== bytesOfTensor('float32', count)) throw …; const data = tensorFromBytes(body.subarray(at, at + size), 'float32');
 */
export function tensorFromBytes(bytes: Uint8Array, type: NumericType): TensorArray {
  return new ARRAY_OF[type](bytes.slice().buffer);
}

/** The byte size of `count` elements of `type`. */
export function bytesOfTensor(type: NumericType, count: number): number {
  return count * ARRAY_OF[type].BYTES_PER_ELEMENT;
}
