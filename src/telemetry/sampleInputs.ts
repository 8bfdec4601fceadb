import { firstBadElement, LIMITS, SAMPLE_ELEMENT_TYPES, type SampleElementType, type SampleInputs } from '../core/eventSchema';
import { OnDeviceError } from '../core/OnDeviceError';
import type { Feeds, TensorData } from '../core/protocol';
import { inputNamesOf } from './recentPredictions';

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const ARRAYS: Record<SampleElementType, string> = {
  float32: 'Float32Array',
  float64: 'Float64Array',
  int8: 'Int8Array',
  uint8: 'Uint8Array',
  int16: 'Int16Array',
  uint16: 'Uint16Array',
  int32: 'Int32Array',
  uint32: 'Uint32Array',
  bool: 'Uint8Array',
};

/**
 * The inputs of a `sample` event from `reportFeedback`'s `input` (one tensor, named after the model's
 * input of that prediction) or `inputs` (by name), as JSON numbers. Anything the collector would refuse is
 * INVALID_INPUT here, naming the input: never sent to be dropped there.
 */
export function sampleInputs(
  given: { input?: TensorData; inputs?: Feeds; inputName?: string; predictionId: string },
  needName: boolean,
): SampleInputs {
  const bad = (message: string, details: Record<string, unknown> = {}) =>
    new OnDeviceError('INVALID_INPUT', `reportFeedback: ${message}`, { field: given.inputs ? 'inputs' : 'input', ...details });
  if (given.input !== undefined && given.inputs !== undefined) throw bad('pass input (one tensor) or inputs (by name), not both');
  let named: [string, unknown][];
  if (given.inputs !== undefined) {
    if (typeof given.inputs !== 'object' || given.inputs === null || Array.isArray(given.inputs)) {
      throw bad('inputs must be an object mapping input names to { type, data, dims }');
    }
    named = Object.entries(given.inputs);
    if (named.length === 0) throw bad('inputs must name at least one input');
  } else {
    const known = inputNamesOf(given.predictionId);
    const name = given.inputName ?? (known?.length === 1 ? known[0] : undefined);
    if (name === undefined && needName) {
      throw bad(
        known
          ? `prediction ${given.predictionId} had ${known.length} inputs (${known.join(', ')}): pass inputs: { name: tensor }`
          : `prediction ${given.predictionId} did not run in this page: pass inputs: { <model input name>: tensor } or inputName`,
      );
    }
    named = [[name ?? 'input', given.input]];
  }
  if (named.length > LIMITS.maxInputs) throw bad(`at most ${LIMITS.maxInputs} inputs`);
  const out = Object.create(null) as SampleInputs;
  let elements = 0;
  for (const [name, tensor] of named) {
    if (name === '' || name.length > LIMITS.maxInputNameLength || FORBIDDEN_NAMES.has(name)) {
      throw bad(`input name ${JSON.stringify(name)} must be 1..${LIMITS.maxInputNameLength} characters and not a prototype key`, {
        input: name,
      });
    }
    const json = tensorJson(tensor, (message) => bad(`input "${name}" ${message}`, { input: name }));
    elements += json.data.length;
    if (elements > LIMITS.maxSampleElements) {
      throw bad(`a shared sample holds at most ${LIMITS.maxSampleElements} elements in all its inputs`, {
        reason: 'SAMPLE_TOO_LARGE',
        elements,
        maxElements: LIMITS.maxSampleElements,
      });
    }
    out[name] = json;
  }
  return out;
}

function tensorJson(tensor: unknown, bad: (message: string) => OnDeviceError): SampleInputs[string] {
  if (typeof tensor !== 'object' || tensor === null) throw bad('must be { type, data, dims }');
  const { type, data, dims } = tensor as { type?: unknown; data?: unknown; dims?: unknown };
  if (!(SAMPLE_ELEMENT_TYPES as readonly unknown[]).includes(type)) {
    throw bad(`has type ${String(type)}; a shared sample is one of ${SAMPLE_ELEMENT_TYPES.join(', ')}`);
  }
  const elementType = type as SampleElementType;
  const kind = Array.isArray(data) ? 'Array' : ((data as object | null)?.constructor?.name ?? typeof data);
  if (kind !== ARRAYS[elementType] && kind !== 'Array' && !(elementType === 'uint8' && kind === 'Uint8ClampedArray')) {
    throw bad(`(${elementType}) needs data as ${ARRAYS[elementType]} or an array of numbers, got ${kind}`);
  }
  if (!Array.isArray(dims) || dims.length > LIMITS.maxRank || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`needs dims as at most ${LIMITS.maxRank} non-negative integers`);
  }
  const values = Array.from(data as ArrayLike<number>);
  const size = (dims as number[]).reduce((a, b) => a * b, 1);
  if (values.length !== size) throw bad(`has ${values.length} elements but dims [${dims.join(', ')}] need ${size}`);
  const at = firstBadElement(elementType, values);
  if (at >= 0) throw bad(`data[${at}] = ${String(values[at])} is not a finite number a ${elementType} can hold`);
  return { type: elementType, dims: [...(dims as number[])], data: values };
}
