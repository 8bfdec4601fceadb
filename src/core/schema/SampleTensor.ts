import * as v from 'valibot';
import { LIMITS } from './limits';
import { integerIn, wellFormedText } from './safeStrings';

/** Element types a shared sample may carry: the numeric ones JSON can hold exactly (no int64, string, float16 bits). */
export const SAMPLE_ELEMENT_TYPES = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'bool'] as const;
export type SampleElementType = (typeof SAMPLE_ELEMENT_TYPES)[number];

const FLOAT32_MAX = 3.4028234663852886e38;

/** The values each element type can hold: [min, max, integer]. */
const RANGE: Record<SampleElementType, readonly [number, number, boolean]> = {
  float32: [-FLOAT32_MAX, FLOAT32_MAX, false],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE, false],
  int8: [-128, 127, true],
  uint8: [0, 255, true],
  int16: [-32768, 32767, true],
  uint16: [0, 65535, true],
  int32: [-(2 ** 31), 2 ** 31 - 1, true],
  uint32: [0, 2 ** 32 - 1, true],
  bool: [0, 1, true],
};

/** The first element of `data` that `type` cannot hold, or -1. One loop: a sample has thousands of elements. */
export function firstBadElement(type: SampleElementType, data: readonly unknown[]): number {
  const [min, max, integer] = RANGE[type];
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (typeof x !== 'number' || !(x >= min && x <= max) || (integer && !Number.isInteger(x))) return i;
  }
  return -1;
}

const elementCount = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * One input tensor of a `sample` event as JSON: `{ type, dims, data }`, data a flat row-major array of
 * finite numbers the element type can hold, as many as the dims say (bounded by LIMITS.maxSampleElements).
 */
export const SampleTensorSchema = v.pipe(
  v.strictObject({
    type: v.picklist(SAMPLE_ELEMENT_TYPES, `must be one of ${SAMPLE_ELEMENT_TYPES.join(', ')}`),
    dims: v.pipe(
      v.array(integerIn(0, LIMITS.maxSampleElements), 'must be an array of dims'),
      v.maxLength(LIMITS.maxRank, `rank at most ${LIMITS.maxRank}`),
    ),
    data: v.pipe(
      v.array(v.unknown(), 'must be an array of numbers'),
      v.maxLength(LIMITS.maxSampleElements, `at most ${LIMITS.maxSampleElements} elements`),
    ),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { type, dims, data } = dataset.value;
    if (elementCount(dims) !== data.length) {
      addIssue({ message: `data has ${data.length} elements but dims [${dims.join(', ')}] need ${elementCount(dims)}` });
      return;
    }
    const bad = firstBadElement(type, data);
    if (bad >= 0) addIssue({ message: `data[${bad}] must be a finite number a ${type} can hold` });
  }),
  v.transform((t) => t as { type: SampleElementType; dims: number[]; data: number[] }),
);

/** The inputs of a sample by name (a null-prototype record: names must never shadow Object.prototype). */
export const SampleInputsSchema = v.pipe(
  v.record(v.pipe(wellFormedText(LIMITS.maxInputNameLength), v.minLength(1, 'input name must not be empty')), SampleTensorSchema),
  v.minEntries(1, 'at least one input'),
  v.maxEntries(LIMITS.maxInputs, `at most ${LIMITS.maxInputs} inputs`),
  v.check(
    (inputs) => Object.values(inputs).reduce((n, t) => n + t.data.length, 0) <= LIMITS.maxSampleElements,
    `at most ${LIMITS.maxSampleElements} elements in all inputs together`,
  ),
  v.transform((inputs) => Object.assign(Object.create(null) as Record<string, v.InferOutput<typeof SampleTensorSchema>>, inputs)),
);

export type SampleTensor = v.InferOutput<typeof SampleTensorSchema>;
export type SampleInputs = v.InferOutput<typeof SampleInputsSchema>;
