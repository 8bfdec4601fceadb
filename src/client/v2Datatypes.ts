import type { ElementType } from '../core/protocol';

// The Open Inference Protocol's datatypes and ours, one to one. src/serve has the same table; the client
// may not import the server's layer (config/eslint-layers.js), so this copy stays exactly in step with it.
const ELEMENT_TO_V2: Record<ElementType, string> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

const V2_TO_ELEMENT = new Map(Object.entries(ELEMENT_TO_V2).map(([element, v2]) => [v2, element as ElementType]));

export function toV2Datatype(type: ElementType): string {
  return ELEMENT_TO_V2[type];
}

export function fromV2Datatype(datatype: unknown): ElementType | undefined {
  return typeof datatype === 'string' ? V2_TO_ELEMENT.get(datatype) : undefined;
}
