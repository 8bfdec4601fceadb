import type { ElementType } from './protocol';

/** Open Inference Protocol tensor datatypes and the runtime's element types, one to one. */
export const V2_TO_ELEMENT = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
} as const satisfies Record<string, ElementType>;

export type V2Datatype = keyof typeof V2_TO_ELEMENT;

export const V2_DATATYPES = Object.keys(V2_TO_ELEMENT) as V2Datatype[];

export function isV2Datatype(value: unknown): value is V2Datatype {
  return typeof value === 'string' && Object.hasOwn(V2_TO_ELEMENT, value);
}

export function toV2Datatype(type: ElementType): V2Datatype {
  return V2_DATATYPES.find((d) => V2_TO_ELEMENT[d] === type)!;
}

/** The element type of a datatype from the wire, or undefined when it is none of the protocol's. */
export function fromV2Datatype(datatype: unknown): ElementType | undefined {
  return isV2Datatype(datatype) ? V2_TO_ELEMENT[datatype] : undefined;
}
