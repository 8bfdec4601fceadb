import type { ElementType } from './protocol';

/** Every element type the runtime knows, as onnxruntime spells it. */
export const ELEMENT_TYPES = [
  'float32',
  'float16',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
] as const satisfies readonly ElementType[];

// Compile-time guard: this list must name every ElementType of the worker protocol.
type Missing = Exclude<ElementType, (typeof ELEMENT_TYPES)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

export function isElementType(value: unknown): value is ElementType {
  return typeof value === 'string' && (ELEMENT_TYPES as readonly string[]).includes(value);
}
